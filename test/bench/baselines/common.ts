/**
 * What the hand-written baselines of `records.bench.ts` share: an Express 5 app with the endpoints
 * the benchmark loads, PocketBase-shaped JSON, request parsing and validation. Each baseline file
 * makes a `Store` (its SQL); the benchmark serves `baselineApp(store)` in its own process, next to
 * Galley.
 *
 * The endpoints answer exactly the requests the benchmark sends (same paths as Galley):
 *   GET   /api/collections/articles/records/:id                                  (ETag header)
 *   GET   /api/collections/articles/records?filter=(status='published')&sort=-created&page=N&perPage=30[&skipTotal=1][&expand=author]
 *   POST  /api/collections/articles/records       {"title","status","views","author"}
 *   PATCH /api/collections/articles/records/:id   {"title","views"} with If-Match: "<etag>"
 * They are not a filter-language implementation: a filter or sort of another shape answers 400.
 *
 * What they do, like Galley: the list runs the page query and (without skipTotal) a `count(*)` with
 * the same WHERE, concurrently; expand is one more query for the page's authors; POST validates the
 * body against the collection file (the author's existence is the database's foreign key, as in
 * Galley's schema) and returns the stored row; PATCH validates, then updates with an optimistic
 * check on the record version Galley keeps (`_galley_version`, the ETag), answering 412 on a stale
 * If-Match and sending the new ETag.
 */
import { randomInt } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';

/** An `articles` row as the store returns it: dates already in PocketBase text form. */
export interface ArticleRow {
  id: string;
  title: string;
  status: string;
  views: number | string;
  author: string | null;
  created: string;
  updated: string;
  /** Galley's record version (GET one, POST, PATCH: for the ETag). */
  _galley_version?: number | string;
}

export interface AuthorRow {
  id: string;
  name: string;
  email: string;
  created: string;
  updated: string;
}

export interface ListQuery {
  /** `status = ?` when set. */
  where: { status: string } | null;
  /** ORDER BY created DESC when true; no ORDER BY otherwise (PocketBase has no default order). */
  sortCreatedDesc: boolean;
  limit: number;
  offset: number;
  /** Whether to run the count query. */
  total: boolean;
}

/** The validated fields of a PATCH: only those the client sent. */
export type ArticleChanges = Partial<Pick<ArticleRow, 'title' | 'status' | 'views' | 'author'>> & { updated: string };

export interface Store {
  getArticle(id: string): Promise<ArticleRow | undefined>;
  /** The page and (when `query.total`) the count of rows matching `where`, else null. */
  listArticles(query: ListQuery): Promise<{ rows: ArticleRow[]; total: number | null }>;
  authorsByIds(ids: string[]): Promise<AuthorRow[]>;
  /** Inserts and returns the stored row (with its version). */
  createArticle(row: ArticleRow & { _galley_version: number }): Promise<ArticleRow>;
  /**
   * Applies `changes` and bumps the version, when the row has version `expected` (any version when
   * null); returns the stored row, or undefined when no row matched.
   */
  updateArticle(id: string, changes: ArticleChanges, expected: number | null): Promise<ArticleRow | undefined>;
  /** Whether the row exists (after a failed conditional update: 412 or 404). */
  articleExists(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The SQLite file of a `sqlite:<path>` URL. */
export function sqliteFile(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/i, '');
}

/** The same connection pragmas Galley sets (src/db/connect.ts). */
export const SQLITE_PRAGMAS = ['journal_mode = WAL', 'foreign_keys = ON', 'busy_timeout = 30000', 'synchronous = NORMAL'];

/**
 * PostgreSQL dates: the session runs in UTC (as Galley's) and a timestamptz arrives as text,
 * `2024-01-02 03:04:05.6+00`, turned into PocketBase's `2024-01-02 03:04:05.600Z` in JS. (Not
 * `to_char()` in the SELECT: PostgreSQL would compute it for every row an OFFSET skips too.)
 */
export function pgConnectionString(url: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c TimeZone=UTC`.trim());
  return u.toString();
}

const PG_UTC_DATE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;
const TIMESTAMPTZ_OID = 1184;

/** pg's `types` option: timestamptz in PocketBase's text form, everything else as pg parses it. */
export function pgTypesWithDates(builtin: { getTypeParser(oid: number, format?: 'text'): (value: string) => unknown }) {
  const date = (value: string) => {
    const m = PG_UTC_DATE.exec(value);
    return m ? `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z` : new Date(value.replace(/([+-]\d{2})$/, '$1:00')).toISOString().replace('T', ' ');
  };
  return { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMPTZ_OID ? date : builtin.getTypeParser(oid, format as 'text')) };
}

/** Now in PocketBase's date form `YYYY-MM-DD HH:MM:SS.mmmZ`. */
export const nowText = () => new Date().toISOString().replace('T', ' ');

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function newId(): string {
  let id = '';
  for (let i = 0; i < 15; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** Galley's ETag of a version (src/records/read.ts etagOf). */
export const etagOf = (version: number | string) => `"${Number(version).toString(36)}"`;

const STATUSES = new Set(['', 'draft', 'published']);
const FILTER = /^\(?\s*status\s*=\s*'([^']*)'\s*\)?$/;
const TRUE = new Set(['1', 'true', 't']);
const FALSE = new Set(['0', 'false', 'f', '']);

export interface BaselineOptions {
  /** Collection ids, for `collectionId`. */
  articlesId: string;
  authorsId: string;
}

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
    where = { status: m[1]! };
  }
  const sort = typeof q['sort'] === 'string' ? q['sort'].trim() : '';
  if (sort !== '' && sort !== '-created') throw badRequest();
  const expand = typeof q['expand'] === 'string' ? q['expand'].trim() : '';
  if (expand !== '' && expand !== 'author') throw badRequest();
  const skip = typeof q['skipTotal'] === 'string' ? q['skipTotal'] : '';
  if (!TRUE.has(skip) && !FALSE.has(skip)) throw badRequest();
  return { query: { where, sortCreatedDesc: sort === '-created', limit: perPage, offset: (page - 1) * perPage, total: !TRUE.has(skip) }, page, perPage, expand: expand === 'author' };
}

type FieldErrors = Record<string, { code: string; message: string }>;

/** Validates the fields of a body the way the collection file says (title required ≤ 200, select values, integer views ≥ 0, relation id). */
function validFields(b: Record<string, unknown>, isNew: boolean, errors: FieldErrors): Partial<ArticleRow> {
  const out: Partial<ArticleRow> = {};
  if (isNew || 'title' in b) {
    const title = b['title'] === undefined || b['title'] === null ? '' : String(b['title']);
    if (title === '') errors['title'] = { code: 'validation_required', message: 'Cannot be blank.' };
    else if ([...title].length > 200) errors['title'] = { code: 'validation_max_text_constraint', message: 'Must be less than 200 character(s).' };
    out.title = title;
  }
  if (isNew || 'status' in b) {
    const status = b['status'] === undefined || b['status'] === null ? '' : String(b['status']);
    if (!STATUSES.has(status)) errors['status'] = { code: 'validation_invalid_value', message: 'Invalid value ' + status + '.' };
    out.status = status;
  }
  if (isNew || 'views' in b) {
    const views = b['views'] === undefined || b['views'] === null || b['views'] === '' ? 0 : Number(b['views']);
    if (!Number.isInteger(views) || views < 0) errors['views'] = { code: 'validation_invalid_number', message: 'Must be an integer ≥ 0.' };
    out.views = views;
  }
  if (isNew || 'author' in b) {
    const author = b['author'] === undefined || b['author'] === null ? '' : String(b['author']);
    if (author !== '' && !/^[a-z0-9]{15}$/.test(author)) errors['author'] = { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' };
    out.author = author || null;
  }
  return out;
}

function bodyObject(body: unknown, failure: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, failure);
  return body as Record<string, unknown>;
}

function articleFromBody(body: unknown): ArticleRow & { _galley_version: number } {
  const errors: FieldErrors = {};
  const fields = validFields(bodyObject(body, 'Failed to create record.'), true, errors);
  if (Object.keys(errors).length > 0) throw new HttpError(400, 'Failed to create record.', errors);
  const now = nowText();
  return { id: newId(), title: fields.title!, status: fields.status!, views: fields.views!, author: fields.author ?? null, created: now, updated: now, _galley_version: randomInt(1, 2 ** 31) };
}

function changesFromBody(body: unknown): ArticleChanges {
  const errors: FieldErrors = {};
  const fields = validFields(bodyObject(body, 'Failed to update record.'), false, errors);
  if (Object.keys(errors).length > 0) throw new HttpError(400, 'Failed to update record.', errors);
  return { ...fields, updated: nowText() };
}

/** The version named by an If-Match header (one strong or weak ETag), null for none or `*`; 412 for anything else. */
function expectedVersion(header: string | undefined): number | null {
  if (header === undefined || header.trim() === '*') return null;
  const m = /^\s*(?:W\/)?"([0-9a-z]+)"\s*$/.exec(header);
  if (!m) throw new HttpError(412, 'The record was changed meanwhile.');
  return parseInt(m[1]!, 36);
}

const missingRelation = (err: unknown, failure: string) =>
  /foreign key/i.test(String((err as Error).message))
    ? new HttpError(400, failure, { author: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' } })
    : err;

/** The Express app over `store` (the bench listens on it). */
export function baselineApp(store: Store, options: BaselineOptions): Express {
  const articleJson = (r: ArticleRow) => ({
    collectionId: options.articlesId,
    collectionName: 'articles',
    id: r.id,
    title: r.title,
    status: r.status,
    views: Number(r.views),
    author: r.author ?? '',
    created: r.created,
    updated: r.updated,
  });
  const authorJson = (r: AuthorRow) => ({ collectionId: options.authorsId, collectionName: 'authors', id: r.id, name: r.name, email: r.email, created: r.created, updated: r.updated });

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
    res.set('ETag', etagOf(row._galley_version!)).json(articleJson(row));
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
    res.json({ items, page, perPage, totalItems: total ?? -1, totalPages: total === null ? -1 : Math.ceil(total / perPage) });
  });
  app.post('/api/collections/articles/records', async (req, res) => {
    const row = articleFromBody(req.body);
    let stored: ArticleRow;
    try {
      stored = await store.createArticle(row);
    } catch (err) {
      throw missingRelation(err, 'Failed to create record.');
    }
    res.set('ETag', etagOf(stored._galley_version!)).json(articleJson(stored));
  });
  app.patch('/api/collections/articles/records/:id', async (req, res) => {
    const id = req.params['id'] as string;
    const expected = expectedVersion(req.header('if-match'));
    const changes = changesFromBody(req.body);
    let stored: ArticleRow | undefined;
    try {
      stored = await store.updateArticle(id, changes, expected);
    } catch (err) {
      throw missingRelation(err, 'Failed to update record.');
    }
    if (!stored) {
      if (expected !== null && (await store.articleExists(id))) throw new HttpError(412, 'The record was changed meanwhile.');
      throw new HttpError(404, "The requested resource wasn't found.");
    }
    res.set('ETag', etagOf(stored._galley_version!)).json(articleJson(stored));
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
  return app;
}
