/**
 * Records API benchmark: `npm run bench:records` (npx tsx test/bench/records.bench.ts).
 *
 * What users hit, on each engine (SQLite; PostgreSQL when it answers), Galley against hand-written
 * Express 5 endpoints doing the same work in the same run (test/bench/baselines/):
 *   SQLite:      express + better-sqlite3, express + knex (better-sqlite3)
 *   PostgreSQL:  express + pg,             express + knex (pg)
 *
 * Data (test/bench/collections): 100 `authors`, 10,000 `articles` (~70 % `published`, distinct
 * `created`), an index on (status, created) for the list's filter and sort, the relation
 * `articles.author` → authors for expand, all rules public.
 *
 * Workloads (each request picks the next of 500 precomputed, seeded paths or bodies):
 *   one            GET one record, a random id
 *   list10         GET ?filter=(status='published')&sort=-created&perPage=30, page random 1–10, with total
 *   list200        the same, page random 1–200
 *   list10-skip    list10 with skipTotal=1
 *   list200-skip   list200 with skipTotal=1
 *   expand         list10 + expand=author
 *   create         POST a valid record (the rows are deleted after each run)
 *   patch          PATCH {title, views} with If-Match: every request sends the record's current ETag
 *                  and takes the new one from the answer (500 records, never two requests on one)
 *
 * Galley is served in this process through the real serve path (createApp → migrateForServe →
 * startServer, default settings), the baselines in this process too (node:http + express), each on
 * its own port; autocannon runs in a forked child (test/bench/load.ts), so the servers have this
 * process to themselves and `process.cpuUsage()` during a run is the server's CPU. Before measuring,
 * every endpoint of every server answers sample requests, compared with Galley's answer (the same
 * JSON for the same page or record; the same shape for writes; 412 for a stale If-Match): the bench
 * fails loudly on any difference. Rounds alternate the order of the servers; a run with any non-2xx
 * answer or socket error fails the bench.
 *
 * Reported per engine and workload: req/s (mean of the rounds), p50/p99 (median), this process's
 * CPU ms per request (median; steadier than req/s on a busy machine), PostgreSQL's CPU ms per request,
 * and Galley ÷ each baseline for req/s and for CPU per request (baseline CPU ÷ Galley CPU, so ≥ 1 is
 * Galley as cheap). Markdown tables on stdout; JSON in test/bench/results/records-<date>.json.
 *
 * Environment:
 *   BENCH_DURATION     seconds per measured run (default 5)
 *   BENCH_WARMUP       seconds of warm-up before each run (default 1; 0 disables)
 *   BENCH_CONNECTIONS  autocannon connections (default 50)
 *   BENCH_ROUNDS       rounds (default 2)
 *   BENCH_ENGINES      comma list of sqlite,postgres (default both; PostgreSQL is skipped when
 *                      unreachable unless named here)
 *   BENCH_WORKLOADS    comma list of the workloads above (default all)
 *   BENCH_BASELINES    comma list of native,knex (default both; empty: Galley alone, e.g. under --cpu-prof)
 *   BENCH_PG           admin URL of a PostgreSQL server (default GALLEY_TEST_PG, else
 *                      postgres://postgres@127.0.0.1:5432/postgres); the database `galley_bench_records`
 *                      is dropped and created there, and dropped at the end
 */
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import pg from 'pg';
import { createApp, migrateForServe, startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { collectionIdFor } from '../../src/schema/index.js';
import { baselineApp, etagOf, type Store } from './baselines/common.js';
import { createKnexStore } from './baselines/express-knex.js';
import { createPgStore } from './baselines/express-pg.js';
import { createSqliteStore } from './baselines/express-sqlite.js';
import { cpuSnapshot, cpuUse } from './cpu.js';
import { freshBenchDatabase, pgReachable } from './database.js';
import { startLoadWorker, type LoadJob, type LoadSummary, type LoadWorker } from './load.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COLLECTIONS_DIR = join(ROOT, 'test/bench/collections');
const RESULTS_DIR = join(ROOT, 'test/bench/results');

const env = process.env;
const DURATION = Number(env['BENCH_DURATION'] ?? 5);
const WARMUP = Number(env['BENCH_WARMUP'] ?? 1);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Math.max(1, Number(env['BENCH_ROUNDS'] ?? 2));
const ENGINES_EXPLICIT = Boolean(env['BENCH_ENGINES']);
const ENGINE_NAMES = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB = 'galley_bench_records';

const AUTHORS = 100;
const ARTICLES = 10_000;
const PUBLISHED_SHARE = 0.7;
const PER_PAGE = 30;
/** Precomputed paths / bodies per workload, cycled. */
const VARIANTS = 500;
const RECORDS = '/api/collections/articles/records';
const FILTER = "(status='published')";
/** Rows created by POST runs carry this title prefix and are deleted after each run. */
const POST_PREFIX = 'bench-post ';

type Engine = 'sqlite' | 'postgres';
type ServerKind = 'galley' | 'native' | 'knex';
const WORKLOADS = ['one', 'list10', 'list200', 'list10-skip', 'list200-skip', 'expand', 'create', 'patch'] as const;
type WorkloadKey = (typeof WORKLOADS)[number];
const BASELINE_KINDS = (env['BENCH_BASELINES'] ?? 'native,knex').split(',').map((s) => s.trim()).filter(Boolean);
const WORKLOAD_KEYS = (env['BENCH_WORKLOADS'] ?? WORKLOADS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
/** Galley ÷ the hand-written express endpoint on the engine's own driver, req/s (issue 11). */
const TARGETS: Partial<Record<WorkloadKey, number>> = { one: 1.0, list10: 0.9, list200: 0.9, 'list10-skip': 0.9, 'list200-skip': 0.9, expand: 1.0, create: 0.9 };
const LABELS: Record<WorkloadKey, string> = {
  one: 'GET one',
  list10: 'list p1–10 + total',
  list200: 'list p1–200 + total',
  'list10-skip': 'list p1–10 skipTotal',
  'list200-skip': 'list p1–200 skipTotal',
  expand: 'list p1–10 + expand',
  create: 'POST create',
  patch: 'PATCH If-Match',
};

// ---------------------------------------------------------------------------------------------
// Data: deterministic, identical on both engines.

interface Seed {
  authors: Record<string, string | number>[];
  articles: Record<string, string | number>[];
  authorIds: string[];
  articleIds: string[];
  published: number;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateSeed(): Seed {
  const rand = mulberry32(20240601);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const used = new Set<string>();
  const id = () => {
    for (;;) {
      let s = '';
      for (let i = 0; i < 15; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      if (!used.has(s)) {
        used.add(s);
        return s;
      }
    }
  };
  const start = Date.UTC(2024, 0, 1);
  const date = (ms: number) => new Date(ms).toISOString().replace('T', ' ');
  const authors: Seed['authors'] = [];
  for (let i = 0; i < AUTHORS; i++) {
    const created = date(start + i * 1000 + Math.floor(rand() * 1000));
    authors.push({ id: id(), name: `Author ${i}`, email: `author${i}@example.com`, created, updated: created, _galley_version: 1 + Math.floor(rand() * 2 ** 30) });
  }
  const articles: Seed['articles'] = [];
  let published = 0;
  for (let i = 0; i < ARTICLES; i++) {
    // One minute apart plus random milliseconds: every `created` is distinct, so `sort=-created` has one answer.
    const created = date(start + 86_400_000 + i * 60_000 + Math.floor(rand() * 1000));
    const status = rand() < PUBLISHED_SHARE ? 'published' : 'draft';
    if (status === 'published') published++;
    const views = Math.floor(rand() * 1000);
    const author = authors[Math.floor(rand() * authors.length)]!['id'] as string;
    articles.push({ id: id(), title: `Article ${i}: ${status} notes on ${views} things`, status, views, author, created, updated: created, _galley_version: 1 + Math.floor(rand() * 2 ** 30) });
  }
  return { authors, articles, authorIds: authors.map((a) => a['id'] as string), articleIds: articles.map((a) => a['id'] as string), published };
}

/** Direct access to the bench database, beside the servers: seeding, the PATCH records' versions, clean-up. */
interface Admin {
  seed(seed: Seed): Promise<void>;
  /** Galley's version of each id (for If-Match). */
  versions(ids: string[]): Promise<Map<string, number>>;
  deleteCreated(): Promise<void>;
  close(): Promise<void>;
}

const AUTHOR_COLS = ['id', 'name', 'email', 'created', 'updated', '_galley_version'];
const ARTICLE_COLS = ['id', 'title', 'status', 'views', 'author', 'created', 'updated', '_galley_version'];

function sqliteAdmin(file: string): Admin {
  const db = new Database(file, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 30000');
  return {
    async seed(seed) {
      const insert = (table: string, cols: string[], rows: Seed['articles']) => {
        const stmt = db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
        db.transaction(() => rows.forEach((r) => stmt.run(r)))();
      };
      insert('authors', AUTHOR_COLS, seed.authors);
      insert('articles', ARTICLE_COLS, seed.articles);
      db.exec('ANALYZE');
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    async versions(ids) {
      const rows = db.prepare<[string], { id: string; v: number }>('SELECT id, _galley_version AS v FROM articles WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids));
      return new Map(rows.map((r) => [r.id, Number(r.v)]));
    },
    async deleteCreated() {
      db.prepare('DELETE FROM articles WHERE title LIKE ?').run(`${POST_PREFIX}%`);
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close: async () => void db.close(),
  };
}

async function pgAdminOf(url: string): Promise<Admin> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return {
    async seed(seed) {
      const insert = async (table: string, cols: string[], rows: Seed['articles']) => {
        for (let i = 0; i < rows.length; i += 1000) {
          const values: unknown[] = [];
          const tuples = rows.slice(i, i + 1000).map((r) => `(${cols.map((c) => (values.push(r[c]), `$${values.length}`)).join(', ')})`);
          await client.query(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`, values);
        }
      };
      await client.query('BEGIN');
      await insert('authors', AUTHOR_COLS, seed.authors);
      await insert('articles', ARTICLE_COLS, seed.articles);
      await client.query('COMMIT');
      await client.query('VACUUM ANALYZE authors');
      await client.query('VACUUM ANALYZE articles');
    },
    async versions(ids) {
      const { rows } = await client.query<{ id: string; v: string }>('SELECT id, _galley_version AS v FROM articles WHERE id = ANY($1)', [ids]);
      return new Map(rows.map((r) => [r.id, Number(r.v)]));
    },
    async deleteCreated() {
      await client.query('DELETE FROM articles WHERE title LIKE $1', [`${POST_PREFIX}%`]);
    },
    close: () => client.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// Workloads

interface Workload {
  key: WorkloadKey;
  method: 'GET' | 'POST' | 'PATCH';
  paths: string[];
  bodies?: string[];
  /** PATCH: the records whose ETags are tracked. */
  patchIds?: string[];
}

const listPath = (page: number, extra = '') => `${RECORDS}?filter=${encodeURIComponent(FILTER)}&sort=-created&page=${page}&perPage=${PER_PAGE}${extra}`;

function workloads(seed: Seed): Workload[] {
  const rand = mulberry32(7);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const n = (f: (i: number) => string) => Array.from({ length: VARIANTS }, (_, i) => f(i));
  const pickId = () => seed.articleIds[Math.floor(rand() * seed.articleIds.length)]!;
  const patchIds = [...new Set(n(() => pickId()))];
  const all: Workload[] = [
    { key: 'one', method: 'GET', paths: n(() => `${RECORDS}/${pickId()}`) },
    { key: 'list10', method: 'GET', paths: n(() => listPath(int(1, 10))) },
    { key: 'list200', method: 'GET', paths: n(() => listPath(int(1, 200))) },
    { key: 'list10-skip', method: 'GET', paths: n(() => listPath(int(1, 10), '&skipTotal=1')) },
    { key: 'list200-skip', method: 'GET', paths: n(() => listPath(int(1, 200), '&skipTotal=1')) },
    { key: 'expand', method: 'GET', paths: n(() => listPath(int(1, 10), '&expand=author')) },
    {
      key: 'create',
      method: 'POST',
      paths: [RECORDS],
      bodies: n((i) => JSON.stringify({ title: `${POST_PREFIX}${i}`, status: rand() < 0.5 ? 'draft' : 'published', views: int(0, 1000), author: seed.authorIds[int(0, seed.authorIds.length - 1)] })),
    },
    { key: 'patch', method: 'PATCH', paths: patchIds.map((id) => `${RECORDS}/${id}`), patchIds, bodies: n((i) => JSON.stringify({ title: `Article patched ${i}`, views: int(0, 1000) })) },
  ];
  return all.filter((w) => WORKLOAD_KEYS.includes(w.key));
}

// ---------------------------------------------------------------------------------------------
// Servers

interface BenchServer {
  kind: ServerKind;
  label: string;
  url: string;
  /** Requests being handled. */
  inFlight(): number;
  close(): Promise<void>;
}

/** Counts the requests `server` is handling (autocannon stops without waiting for its last ones). */
function inFlightCounter(server: Server): () => number {
  let n = 0;
  server.on('request', (_req, res: import('node:http').ServerResponse) => {
    n++;
    // Not the 'close' event: that comes when the client goes, while the handler may still be running.
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    let done = false;
    res.end = ((...args: unknown[]) => {
      if (!done) {
        done = true;
        n--;
      }
      return end(...args);
    }) as typeof res.end;
  });
  return () => n;
}

/** Waits until no server is handling a request (at most 10 s). */
async function idle(servers: BenchServer[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (servers.some((s) => s.inFlight() > 0)) {
    if (Date.now() > deadline) {
      console.warn(`[bench] still handling requests after 10 s: ${servers.map((s) => `${s.label} ${s.inFlight()}`).join(', ')}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function listen(app: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
}

async function serveBaseline(kind: Exclude<ServerKind, 'galley'>, label: string, store: Store): Promise<BenchServer> {
  const { server, url } = await listen(baselineApp(store, { articlesId: collectionIdFor('base', 'articles'), authorsId: collectionIdFor('base', 'authors') }));
  const inFlight = inFlightCounter(server);
  const self: BenchServer = {
    kind,
    label,
    url,
    inFlight,
    close: async () => {
      await idle([self]);
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await store.close();
    },
  };
  return self;
}

/** Galley's PostgreSQL pool size (`poolMax ?? N` in src/db/connect.ts); the baselines get the same. */
function galleyPoolMax(): number {
  const m = /poolMax\s*\?\?\s*(\d+)/.exec(readFileSync(join(ROOT, 'src/db/connect.ts'), 'utf8'));
  return m ? Number(m[1]) : 10;
}

/** The environment Galley reads, without a developer's GALLEY_* settings. */
function galleyEnv(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('GALLEY_') && name !== 'DATABASE_URL') e[name] = value;
  return { ...e, GALLEY_LOG_LEVEL: 'error', GALLEY_LOG_PRETTY: 'false' };
}

// ---------------------------------------------------------------------------------------------
// Sanity: every server answers like Galley before anything is measured.

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObj(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (isObj(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape(value[k])]));
  return value === null ? 'null' : typeof value;
}

function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path || '.'}: ${a.length} vs ${b.length} elements`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(k in a)) return `${path}.${k}: missing`;
      if (!(k in b)) return `${path}.${k}: extra`;
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path || '.'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

interface Answer {
  status: number;
  body: unknown;
  etag: string | null;
}

async function send(base: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(base + path, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text
  }
  return { status: res.status, body: parsed, etag: res.headers.get('etag') };
}

/** Throws unless every server answers `w`'s sample requests as Galley does. */
async function sanity(w: Workload, servers: BenchServer[], seed: Seed, engine: Engine): Promise<void> {
  const fail = (server: BenchServer, what: string) => {
    throw new Error(`sanity check failed on ${engine}, ${LABELS[w.key]}, ${server.label}: ${what}`);
  };
  const [galley] = servers;
  if (!galley || galley.kind !== 'galley') throw new Error('Galley must be the first server');
  if (w.method === 'GET') {
    for (const path of [w.paths[0]!, w.paths[1]!, w.paths[w.paths.length - 1]!]) {
      const answers = await Promise.all(servers.map((s) => send(s.url, 'GET', path)));
      answers.forEach((a, i) => {
        if (a.status !== 200) fail(servers[i]!, `GET ${path} → ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
      });
      const ref = answers[0]!;
      if (w.key === 'one') {
        if (!isObj(ref.body) || ref.body['id'] !== path.slice(RECORDS.length + 1)) fail(galley, `GET ${path}: not the requested record`);
        if (!ref.etag) fail(galley, `GET ${path}: no ETag`);
      } else {
        const body = ref.body as Record<string, unknown>;
        const items = body['items'] as unknown[];
        if (!Array.isArray(items) || items.length !== PER_PAGE) fail(galley, `GET ${path}: ${Array.isArray(items) ? items.length : 'no'} items, expected ${PER_PAGE}`);
        const skip = path.includes('skipTotal=1');
        const total = skip ? -1 : seed.published;
        if (body['totalItems'] !== total) fail(galley, `GET ${path}: totalItems ${String(body['totalItems'])}, expected ${total}`);
        if (w.key === 'expand') {
          const first = items[0] as Record<string, unknown>;
          if (!isObj(first['expand']) || !isObj(first['expand']['author']) || first['expand']['author']['id'] !== first['author']) fail(galley, `GET ${path}: items[0].expand.author missing or wrong`);
        }
      }
      answers.forEach((a, i) => {
        const d = firstDifference(canonical(a.body), canonical(ref.body));
        if (d) fail(servers[i]!, `GET ${path}: answer differs from Galley's at ${d}`);
        if (w.key === 'one' && a.etag !== ref.etag) fail(servers[i]!, `GET ${path}: ETag ${a.etag} vs Galley's ${ref.etag}`);
      });
    }
    return;
  }
  if (w.method === 'POST') {
    const answers: Answer[] = [];
    for (const s of servers) answers.push(await send(s.url, 'POST', w.paths[0]!, w.bodies![0]));
    answers.forEach((a, i) => {
      if (a.status !== 200) fail(servers[i]!, `POST → ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
      const d = firstDifference(shape(a.body), shape(answers[0]!.body));
      if (d) fail(servers[i]!, `POST: answer's shape differs from Galley's at ${d}`);
      const sent = JSON.parse(w.bodies![0]!) as Record<string, unknown>;
      const got = a.body as Record<string, unknown>;
      for (const k of Object.keys(sent)) if (got[k] !== sent[k]) fail(servers[i]!, `POST: ${k} is ${JSON.stringify(got[k])}, sent ${JSON.stringify(sent[k])}`);
    });
    // Invalid input is refused by every server.
    const bad = JSON.stringify({ title: '', status: 'nope', views: -1, author: seed.authorIds[0] });
    for (const s of servers) {
      const a = await send(s.url, 'POST', w.paths[0]!, bad);
      if (a.status !== 400) fail(s, `POST of an invalid record → ${a.status}, expected 400`);
    }
    return;
  }
  // PATCH: each server updates its own record with the current ETag, gets the new one, and a stale one is refused.
  const answers: Answer[] = [];
  for (const [i, s] of servers.entries()) {
    const path = w.paths[i]!;
    const before = await send(s.url, 'GET', path);
    const a = await send(s.url, 'PATCH', path, w.bodies![i], { 'if-match': before.etag ?? '' });
    if (a.status !== 200) fail(s, `PATCH ${path} with If-Match ${before.etag} → ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`);
    if (!a.etag || a.etag === before.etag) fail(s, `PATCH ${path}: ETag ${a.etag} after ${before.etag}`);
    const after = await send(galley.url, 'GET', path);
    if (after.etag !== a.etag) fail(s, `PATCH ${path}: Galley sees ETag ${after.etag}, the answer said ${a.etag}`);
    const d = firstDifference(canonical(a.body), canonical(after.body));
    if (d) fail(s, `PATCH ${path}: answer differs from the stored record at ${d}`);
    const stale = await send(s.url, 'PATCH', path, w.bodies![i], { 'if-match': before.etag ?? '' });
    if (stale.status !== 412) fail(s, `PATCH ${path} with a stale If-Match → ${stale.status}, expected 412`);
    answers.push(a);
  }
  answers.forEach((a, i) => {
    const d = firstDifference(shape(a.body), shape(answers[0]!.body));
    if (d) fail(servers[i]!, `PATCH: answer's shape differs from Galley's at ${d}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Run extends LoadSummary {
  cpuMsPerRequest: number;
  pgCpuMsPerRequest: number | null;
  otherCores: number | null;
}

interface Row {
  workload: WorkloadKey;
  server: ServerKind;
  label: string;
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  pgCpuMsPerRequest: number | null;
  otherCores: number | null;
  requests: number;
  rounds: Run[];
  /** Galley only: Galley ÷ baseline (req/s), baseline CPU ÷ Galley CPU. */
  vs?: Partial<Record<ServerKind, { rps: number; cpu: number }>>;
  target?: number;
}

async function measure(worker: LoadWorker, admin: Admin, server: BenchServer, w: Workload, engine: Engine, settle: () => Promise<void>): Promise<Run> {
  const job = async (duration: number): Promise<Omit<LoadJob, 'id'>> => {
    const j: Omit<LoadJob, 'id'> = { url: server.url, method: w.method, path: w.paths[0]!, paths: w.paths, connections: CONNECTIONS, duration };
    if (w.bodies) j.bodies = w.bodies;
    if (w.patchIds) {
      // The previous run's last requests may still be in a server (autocannon stops without waiting for them).
      const versions = await settledVersions(admin, w.patchIds);
      j.etags = Object.fromEntries(w.patchIds.map((id) => [`${RECORDS}/${id}`, etagOf(versions.get(id)!)]));
    }
    return j;
  };
  try {
    if (WARMUP > 0) {
      await worker.run(await job(WARMUP));
      await settle();
    }
    const measured = await job(DURATION);
    const cpu0 = process.cpuUsage();
    const snap0 = cpuSnapshot([process.pid, worker.child.pid ?? 0]);
    const r = await worker.run(measured);
    const cpu = process.cpuUsage(cpu0);
    const snap1 = cpuSnapshot([process.pid, worker.child.pid ?? 0]);
    const use = snap0 && snap1 ? cpuUse(snap0, snap1) : null;
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0 || r.requests === 0) {
      throw new Error(`${engine} ${LABELS[w.key]} · ${server.label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts of ${r.requests} (${JSON.stringify(r.statusCodes)})`);
    }
    const requests = Math.max(1, r.requests);
    return {
      ...r,
      cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / requests,
      pgCpuMsPerRequest: engine === 'postgres' && use ? (use.postgres * DURATION * 1000) / requests : null,
      otherCores: use ? use.other : null,
    };
  } finally {
    if (w.key === 'create') {
      await settle();
      await admin.deleteCreated();
    }
  }
}

/** The versions of `ids` once two reads 300 ms apart agree. */
async function settledVersions(admin: Admin, ids: string[]): Promise<Map<string, number>> {
  let last = await admin.versions(ids);
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await admin.versions(ids);
    if (ids.every((id) => now.get(id) === last.get(id))) return now;
    last = now;
  }
  throw new Error('the PATCH records kept changing after the run');
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function combine(w: WorkloadKey, server: BenchServer, runs: Run[]): Row {
  const others = runs.map((r) => r.otherCores).filter((x): x is number => x !== null);
  const pgs = runs.map((r) => r.pgCpuMsPerRequest).filter((x): x is number => x !== null);
  return {
    workload: w,
    server: server.kind,
    label: server.label,
    rps: runs.reduce((s, r) => s + r.rps, 0) / runs.length,
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
    pgCpuMsPerRequest: pgs.length ? median(pgs) : null,
    otherCores: others.length ? Math.max(...others) : null,
    requests: runs.reduce((s, r) => s + r.requests, 0),
    rounds: runs,
  };
}

interface EngineReport {
  engine: Engine;
  baselines: string[];
  published: number;
  rows: Row[];
}

async function benchEngine(engine: Engine, worker: LoadWorker, seed: Seed, poolMax: number): Promise<EngineReport> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-bench-records-'));
  const cleanups: (() => Promise<void>)[] = [];
  const servers: BenchServer[] = [];
  let admin: Admin | null = null;
  try {
    const db = await freshBenchDatabase(engine, { dataDir: join(dir, 'data'), adminUrl: PG_ADMIN, name: PG_DB, keep: false, cleanups });
    mkdirSync(join(dir, 'data'), { recursive: true });
    const config = loadConfig({ collections: COLLECTIONS_DIR, data: join(dir, 'data'), http: '127.0.0.1:0', db }, galleyEnv(), false);
    const app = await createApp(config, createLogger(config));
    let running: RunningServer | null = null;
    let galleyInFlight = () => 0;
    servers.push({ kind: 'galley', label: 'Galley', url: '', inFlight: () => galleyInFlight(), close: async () => (running ? running.close() : app.db.close()) });
    await migrateForServe(app);
    admin = engine === 'sqlite' ? sqliteAdmin(db.slice('sqlite:'.length)) : await pgAdminOf(db);
    console.log(`[bench] ${engine}: seeding ${AUTHORS} authors, ${ARTICLES} articles (${seed.published} published)`);
    await admin.seed(seed);
    running = await startServer(app);
    servers[0]!.url = running.url;
    galleyInFlight = inFlightCounter(running.server);
    if (BASELINE_KINDS.includes('native')) {
      if (engine === 'sqlite') servers.push(await serveBaseline('native', 'express+better-sqlite3', createSqliteStore(db)));
      else servers.push(await serveBaseline('native', 'express+pg', createPgStore(db, poolMax)));
    }
    if (BASELINE_KINDS.includes('knex')) servers.push(await serveBaseline('knex', `express+knex(${engine === 'sqlite' ? 'better-sqlite3' : 'pg'})`, createKnexStore(db, poolMax)));

    const ws = workloads(seed);
    for (const w of ws) await sanity(w, servers, seed, engine);
    await admin.deleteCreated();
    console.log(`[bench] ${engine}: sanity checks passed (${ws.length} workloads × ${servers.length} servers)`);

    const runs = new Map<string, Run[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of ws) {
        // Round r starts with server r mod n, and odd rounds go backwards: each server is first, middle and last.
        const rotated = servers.map((_, i) => servers[(i + round) % servers.length]!);
        const order = round % 2 ? rotated.reverse() : rotated;
        for (const server of order) {
          await idle(servers);
          const run = await measure(worker, admin, server, w, engine, () => idle(servers));
          const key = `${w.key}/${server.kind}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
          console.log(
            `[bench] ${engine} round ${round + 1}/${ROUNDS} ${LABELS[w.key]} · ${server.label}: ${Math.round(run.rps)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.cpuMsPerRequest.toFixed(3)} CPU ms/req${run.otherCores !== null && run.otherCores > 0.2 ? `, other processes ${run.otherCores.toFixed(2)} cores` : ''}`,
          );
        }
      }
    }
    const rows: Row[] = [];
    for (const w of ws) {
      const group = servers.map((s) => combine(w.key, s, runs.get(`${w.key}/${s.kind}`)!));
      const g = group[0]!;
      g.vs = {};
      for (const b of group.slice(1)) g.vs[b.server] = { rps: g.rps / b.rps, cpu: b.cpuMsPerRequest / g.cpuMsPerRequest };
      if (TARGETS[w.key] !== undefined) g.target = TARGETS[w.key]!;
      rows.push(...group);
    }
    return { engine, baselines: servers.slice(1).map((s) => s.label), published: seed.published, rows };
  } finally {
    for (const s of servers.reverse()) await s.close().catch((err: unknown) => console.error(`[bench] closing ${s.label}: ${String(err)}`));
    await admin?.close();
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => console.error(`[bench] cleanup: ${String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const num = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function markdown(report: EngineReport): string {
  const isPg = report.engine === 'postgres';
  const native = report.baselines.find((b) => !b.startsWith('express+knex')) ?? 'express+pg/better-sqlite3 (not run)';
  const knex = report.baselines.find((b) => b.startsWith('express+knex')) ?? 'express+knex (not run)';
  const lines = [
    `### ${isPg ? 'PostgreSQL' : 'SQLite'}`,
    '',
    `Galley ÷ ${native} and ÷ ${knex}: req/s ratio, and CPU ratio (baseline CPU ms/req ÷ Galley's; ≥ 1 means Galley is as cheap). Target: req/s ratio to ${native}.`,
    '',
    `| workload | server | req/s | p50 ms | p99 ms | CPU ms/req |${isPg ? ' PG CPU ms/req |' : ''} req/s ratio vs ${native} | vs knex | CPU ratio vs ${native} | vs knex | target |`,
    `|---|---|---:|---:|---:|---:|${isPg ? '---:|' : ''}---:|---:|---:|---:|---|`,
  ];
  for (const r of report.rows) {
    const vs = r.vs;
    const x = (n: number | undefined) => (n === undefined ? '' : `${n.toFixed(2)}×`);
    const target = r.target === undefined ? '' : `≥ ${r.target.toFixed(1)}× ${vs?.native && vs.native.rps >= r.target ? '✓' : '✗'}`;
    lines.push(
      `| ${r.server === 'galley' ? `**${LABELS[r.workload]}**` : ''} | ${r.label} | ${num(r.rps)} | ${r.p50} | ${r.p99} | ${r.cpuMsPerRequest.toFixed(3)} |${isPg ? ` ${r.pgCpuMsPerRequest === null ? '—' : r.pgCpuMsPerRequest.toFixed(3)} |` : ''} ${x(vs?.native?.rps)} | ${x(vs?.knex?.rps)} | ${x(vs?.native?.cpu)} | ${x(vs?.knex?.cpu)} | ${target} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const engines = ENGINE_NAMES.filter((e): e is Engine => e === 'sqlite' || e === 'postgres');
  if (engines.length !== ENGINE_NAMES.length) throw new Error(`BENCH_ENGINES: expected sqlite and/or postgres, got ${ENGINE_NAMES.join(',')}`);
  const unknownBaselines = BASELINE_KINDS.filter((k) => k !== 'native' && k !== 'knex');
  if (unknownBaselines.length) throw new Error(`BENCH_BASELINES: expected native and/or knex, got ${unknownBaselines.join(', ')}`);
  const unknown = WORKLOAD_KEYS.filter((k) => !(WORKLOADS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`BENCH_WORKLOADS: unknown ${unknown.join(', ')} (expected some of ${WORKLOADS.join(', ')})`);
  const seed = generateSeed();
  const poolMax = galleyPoolMax();
  const cpu = cpus();
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    durationSec: DURATION,
    warmupSec: WARMUP,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    pgPoolMax: poolMax,
    data: { authors: AUTHORS, articles: ARTICLES, published: seed.published, perPage: PER_PAGE, filter: FILTER, sort: '-created' },
    targets: TARGETS,
  };
  console.log(`[bench] ${meta.cpus}; node ${meta.node}; ${CONNECTIONS} connections; ${ROUNDS} round(s) of ${WARMUP} s warm-up + ${DURATION} s per run`);
  const worker = startLoadWorker();
  const reports: EngineReport[] = [];
  try {
    for (const engine of engines) {
      if (engine === 'postgres') {
        const problem = await pgReachable(PG_ADMIN);
        if (problem) {
          if (ENGINES_EXPLICIT) throw new Error(`PostgreSQL at ${PG_ADMIN.replace(/:[^:@/]*@/, ':***@')} is unreachable: ${problem}`);
          console.log(`[bench] PostgreSQL skipped: unreachable (${problem}); set BENCH_PG`);
          continue;
        }
      }
      reports.push(await benchEngine(engine, worker, seed, poolMax));
    }
  } finally {
    await worker.stop();
  }

  console.log(`\n## Records API — ${meta.date.slice(0, 10)}, ${meta.cpus}, node ${meta.node}`);
  console.log(
    `${AUTHORS} authors, ${ARTICLES} articles (${seed.published} published); lists: filter=${FILTER}, sort=-created, perPage=${PER_PAGE}. autocannon (child process): ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${WARMUP} s warm-up + ${DURATION} s; req/s is the mean of the rounds, the rest the median. CPU ms/req: the server process (this one).`,
  );
  const busiest = Math.max(0, ...reports.flatMap((r) => r.rows.map((row) => row.otherCores ?? 0)));
  if (busiest > 0.2) console.log(`**Note:** other processes used up to ${busiest.toFixed(2)} of ${cpu.length} cores during a run; req/s is skewed, CPU ms/req less so.`);
  console.log('');
  for (const report of reports) console.log(markdown(report));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `records-${meta.date.slice(0, 19).replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ ...meta, engines: reports }, null, 2)}\n`);
  console.log(`[bench] wrote ${relative(ROOT, file)}`);
}

try {
  await main();
} catch (err) {
  console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
}
