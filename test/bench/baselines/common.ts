/**
 * What the hand-written baselines of `records.bench.ts` share: the Express app with the four
 * endpoints, PocketBase-shaped JSON, request parsing and validation. Each baseline file supplies a
 * `Store` (its SQL) and calls `serveBaseline`.
 *
 * The endpoints answer exactly the requests the benchmark sends (same paths as Galley):
 *   GET  /api/collections/articles/records/:id
 *   GET  /api/collections/articles/records?filter=(status='published' && views>100)&sort=-created&page=N&perPage=30
 *   GET  /api/collections/articles/records?expand=author&page=N&perPage=30
 *   POST /api/collections/articles/records   {"title","status","views","author"}
 * plus GET /health. They are not a filter-language implementation: a filter or sort of another shape
 * answers 400.
 *
 * Environment (set by the benchmark): BENCH_DB_URL (sqlite:<path> or postgres://…), BENCH_POOL_MAX,
 * BENCH_ARTICLES_ID, BENCH_AUTHORS_ID (collection ids for `collectionId`).
 * On listen the process prints `BASELINE_LISTENING <port>` on stdout (it listens on port 0).
 */
import { randomInt } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request } from 'express';

/** An `articles` row as the store returns it: dates already in PocketBase text form. */
export interface ArticleRow {
  id: string;
  title: string;
  status: string;
  views: number | string;
  author: string | null;
  created: string;
  updated: string;
}

export interface AuthorRow {
  id: string;
  name: string;
  email: string;
  created: string;
  updated: string;
}

export interface ListQuery {
  /** `status = ? AND views > ?` when set. */
  where: { status: string; minViews: number } | null;
  /** ORDER BY created DESC when true; no ORDER BY otherwise (PocketBase has no default order). */
  sortCreatedDesc: boolean;
  limit: number;
  offset: number;
}

export interface Store {
  getArticle(id: string): Promise<ArticleRow | undefined>;
  /** The page and the total count of rows matching `where`. */
  listArticles(query: ListQuery): Promise<{ rows: ArticleRow[]; total: number }>;
  authorsByIds(ids: string[]): Promise<AuthorRow[]>;
  /** Inserts and returns the stored row. */
  createArticle(row: ArticleRow): Promise<ArticleRow>;
  close(): Promise<void>;
}

export interface BaselineEnv {
  dbUrl: string;
  poolMax: number;
}

export function baselineEnv(): BaselineEnv {
  const dbUrl = process.env['BENCH_DB_URL'];
  if (!dbUrl) throw new Error('BENCH_DB_URL is not set');
  return { dbUrl, poolMax: Number(process.env['BENCH_POOL_MAX'] ?? 10) };
}

/** The SQLite file of a `sqlite:<path>` URL. */
export function sqliteFile(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/i, '');
}

/** The same connection pragmas Galley sets (src/db/connect.ts). */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'foreign_keys = ON', 'busy_timeout = 30000', 'synchronous = NORMAL'];

/** PostgreSQL: a timestamptz column in PocketBase's text form, inside the SELECT. */
export const pgDate = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS"Z"')`;

/** Now in PocketBase's date form `YYYY-MM-DD HH:MM:SS.mmmZ`. */
export const nowText = () => new Date().toISOString().replace('T', ' ');

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function newId(): string {
  let id = '';
  for (let i = 0; i < 15; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

const ARTICLES_ID = process.env['BENCH_ARTICLES_ID'] ?? 'articles';
const AUTHORS_ID = process.env['BENCH_AUTHORS_ID'] ?? 'authors';
const STATUSES = new Set(['', 'draft', 'published']);
const FILTER = /^\(?\s*status\s*=\s*'([^']*)'\s*&&\s*views\s*>\s*(\d+)\s*\)?$/;

const articleJson = (r: ArticleRow) => ({
  collectionId: ARTICLES_ID,
  collectionName: 'articles',
  id: r.id,
  title: r.title,
  status: r.status,
  views: Number(r.views),
  author: r.author ?? '',
  created: r.created,
  updated: r.updated,
});

const authorJson = (r: AuthorRow) => ({ collectionId: AUTHORS_ID, collectionName: 'authors', ...r });

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const badRequest = () => new HttpError(400, 'Something went wrong while processing your request.');

function positiveInt(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw badRequest();
  const n = Number(value);
  return n <= 0 ? fallback : n;
}

function listQuery(req: Request): { query: ListQuery; page: number; perPage: number; expand: boolean } {
  const q = req.query as Record<string, unknown>;
  const page = positiveInt(q['page'], 1);
  const perPage = Math.min(positiveInt(q['perPage'], 30), 1000);
  let where: ListQuery['where'] = null;
  const filter = typeof q['filter'] === 'string' ? q['filter'].trim() : '';
  if (filter) {
    const m = FILTER.exec(filter);
    if (!m) throw badRequest();
    where = { status: m[1]!, minViews: Number(m[2]) };
  }
  const sort = typeof q['sort'] === 'string' ? q['sort'].trim() : '';
  if (sort !== '' && sort !== '-created') throw badRequest();
  const expand = typeof q['expand'] === 'string' ? q['expand'].trim() : '';
  if (expand !== '' && expand !== 'author') throw badRequest();
  return { query: { where, sortCreatedDesc: sort === '-created', limit: perPage, offset: (page - 1) * perPage }, page, perPage, expand: expand === 'author' };
}

/** Validates a create body the way the collection file says (title required ≤ 200, select values, integer views ≥ 0, relation id). */
function articleFromBody(body: unknown): ArticleRow {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'Failed to create record.');
  const b = body as Record<string, unknown>;
  const errors: Record<string, { code: string; message: string }> = {};
  const title = b['title'] === undefined || b['title'] === null ? '' : String(b['title']);
  if (title === '') errors['title'] = { code: 'validation_required', message: 'Cannot be blank.' };
  else if ([...title].length > 200) errors['title'] = { code: 'validation_max_text_constraint', message: 'Must be less than 200 character(s).' };
  const status = b['status'] === undefined || b['status'] === null ? '' : String(b['status']);
  if (!STATUSES.has(status)) errors['status'] = { code: 'validation_invalid_value', message: 'Invalid value ' + status + '.' };
  const views = b['views'] === undefined || b['views'] === null || b['views'] === '' ? 0 : Number(b['views']);
  if (!Number.isInteger(views) || views < 0) errors['views'] = { code: 'validation_invalid_number', message: 'Must be an integer ≥ 0.' };
  const author = b['author'] === undefined || b['author'] === null ? '' : String(b['author']);
  if (author !== '' && !/^[a-z0-9]{15}$/.test(author)) errors['author'] = { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' };
  if (Object.keys(errors).length > 0) throw new HttpError(400, 'Failed to create record.', errors);
  const now = nowText();
  return { id: newId(), title, status, views, author: author || null, created: now, updated: now };
}

/** Builds the Express app over `store`, listens on an ephemeral port and prints it. */
export function serveBaseline(store: Store): void {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '32mb' }));
  app.get('/health', (_req, res) => {
    res.json({ message: 'ok' });
  });
  app.get('/api/collections/articles/records/:id', async (req, res) => {
    const row = await store.getArticle(req.params['id'] as string);
    if (!row) throw new HttpError(404, "The requested resource wasn't found.");
    res.json(articleJson(row));
  });
  app.get('/api/collections/articles/records', async (req, res) => {
    const { query, page, perPage, expand } = listQuery(req);
    const { rows, total } = await store.listArticles(query);
    const items: Record<string, unknown>[] = rows.map(articleJson);
    if (expand) {
      const ids = [...new Set(rows.map((r) => r.author).filter((a): a is string => Boolean(a)))];
      const authors = new Map((ids.length ? await store.authorsByIds(ids) : []).map((a) => [a.id, authorJson(a)]));
      for (const item of items) {
        const author = authors.get(item['author'] as string);
        item['expand'] = author ? { author } : {};
      }
    }
    res.json({ items, page, perPage, totalItems: total, totalPages: Math.ceil(total / perPage) });
  });
  app.post('/api/collections/articles/records', async (req, res) => {
    const row = articleFromBody(req.body);
    let stored: ArticleRow;
    try {
      stored = await store.createArticle(row);
    } catch (err) {
      // The FK check is the database's: an unknown author id is a validation error, as in PocketBase.
      if (/foreign key/i.test(String((err as Error).message))) {
        throw new HttpError(400, 'Failed to create record.', { author: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' } });
      }
      throw err;
    }
    res.json(articleJson(stored));
  });
  app.use((_req, _res, next) => next(new HttpError(404, "The requested resource wasn't found.")));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json({ data: err.data, message: err.message, status: err.status });
      return;
    }
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    if (status >= 500) console.error(err);
    res.status(status).json({ data: {}, message: status >= 500 ? 'Something went wrong.' : String((err as Error).message), status });
  };
  app.use(onError);

  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`BASELINE_LISTENING ${port}\n`);
  });
  const stop = () => {
    server.close(() => void store.close().finally(() => process.exit(0)));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
