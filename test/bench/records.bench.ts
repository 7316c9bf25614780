/**
 * Records API benchmark: `npm run bench:records`.
 *
 * Per engine (SQLite; PostgreSQL when it answers) it migrates the bench collections
 * (test/bench/collections: `authors`, `articles` with a single relation to authors, all rules public)
 * through Galley's CLI into a fresh database, seeds 1,000 authors and 10,000 articles with SQL, and
 * starts, each as its own child process:
 *   - Galley (`node dist/main.js serve`, after `npm run build`; tsx from src/ when the build fails),
 *   - the primary hand-written baseline: express 5 + `pg` (PostgreSQL) or express 5 + better-sqlite3 (SQLite),
 *   - express 5 + knex on the same engine (test/bench/baselines/).
 * For each endpoint (GET one, GET list with filter + sort + count, GET list with expand, POST create)
 * it probes every server once (status 200 and the response shape; Galley is compared with the primary
 * baseline), then loads Galley and the baselines back to back with autocannon (warm-up, then the
 * measured run). Prints a markdown table per engine and writes test/bench/results/records-<date>.json.
 *
 * Environment:
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_WARMUP       seconds of warm-up before each run (default 2; 0 disables)
 *   BENCH_CONNECTIONS  autocannon connections (default 50)
 *   BENCH_ONLY         galley | baselines (default: both)
 *   BENCH_ENGINES      comma list of sqlite,postgres (default: both; PostgreSQL is skipped when unreachable
 *                      unless named here explicitly)
 *   BENCH_ENDPOINTS    comma list of one,list,expand,create (default: all)
 *   BENCH_PG           admin URL of a PostgreSQL server (default GALLEY_TEST_PG, else
 *                      postgres://postgres@127.0.0.1:5432/postgres); the database `galley_bench` is
 *                      dropped and created there, and dropped again at the end
 *   BENCH_GALLEY       dist | tsx: how to run Galley (default: build, then dist; tsx if the build fails)
 *   BENCH_BUILD        0 skips `npm run build`
 *   BENCH_KEEP         1 keeps the temporary folder and the galley_bench database
 * Exit code 1 when a requested run could not be made or was invalid (any non-2xx or socket error).
 */
import { cpuSnapshot, cpuUse } from './cpu.js';
import { freshBenchDatabase, pgReachable } from './database.js';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { collectionIdFor } from '../../src/schema/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BENCH_DIR = join(ROOT, 'test/bench');
const COLLECTIONS_DIR = join(BENCH_DIR, 'collections');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

const env = process.env;
const DURATION = Number(env['BENCH_DURATION'] ?? 10);
const WARMUP = Number(env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 50);
const ONLY = env['BENCH_ONLY'] ?? '';
const ENGINES_EXPLICIT = Boolean(env['BENCH_ENGINES']);
const ENGINE_NAMES = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const ENDPOINT_KEYS = (env['BENCH_ENDPOINTS'] ?? 'one,list,expand,create').split(',').map((s) => s.trim()).filter(Boolean);
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB = 'galley_bench';
const KEEP = env['BENCH_KEEP'] === '1';

const AUTHORS = 1000;
const ARTICLES = 10_000;
const PER_PAGE = 30;
/** The list filter, as the PocketBase SDK would send it. */
const LIST_FILTER = "(status='published' && views>100)";
const FILTER_STATUS = 'published';
const FILTER_MIN_VIEWS = 100;
/** Rows created by POST runs carry this title prefix and are deleted after each run. */
const POST_PREFIX = 'bench-post ';
const TARGETS: Record<EndpointKey, number> = { one: 0.8, list: 0.8, expand: 0.8, create: 0.75 };

type Engine = 'sqlite' | 'postgres';
type EndpointKey = 'one' | 'list' | 'expand' | 'create';
type ServerKind = 'galley' | 'express-pg' | 'express-sqlite' | 'express-knex';

const SERVER_LABEL: Record<ServerKind, (e: Engine) => string> = {
  galley: () => 'Galley',
  'express-pg': () => 'express+pg',
  'express-sqlite': () => 'express+better-sqlite3',
  'express-knex': (e) => (e === 'postgres' ? 'express+knex(pg)' : 'express+knex(better-sqlite3)'),
};

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered, and killed on any exit path.

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n[bench] ${signal}: stopping servers and cleaning up`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function cleanupAll(): Promise<void> {
  await Promise.allSettled([...children].map((c) => stopChild(c)));
  while (cleanups.length) await cleanups.pop()!().catch((err: unknown) => console.error(`[bench] cleanup failed: ${String(err)}`));
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The last 8 kB of stdout + stderr. */
  output(): string;
}

/** Galley's variables are cleared from the inherited environment so a developer's shell cannot change the run. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of Object.keys(e)) if (name.startsWith('GALLEY_') || name === 'DATABASE_URL' || name.startsWith('BENCH_')) delete e[name];
  return { ...e, ...extra };
}

function startProc(cmd: string, args: string[], extraEnv: Record<string, string>): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: childEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 16_384) out = out.slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((done) =>
    child.once('exit', (code) => {
      children.delete(child);
      done(code);
    }),
  );
  child.once('error', (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));
  return { child, exited, output: () => out.slice(-8192) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
  });
}

async function waitHealthy(proc: Proc, url: string, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${what} exited with code ${exitCode} before ${url} answered:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${what}: ${url} did not answer 200 within ${timeoutMs / 1000} s:\n${proc.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// Galley: how to run it, migrate through the CLI, serve.

interface GalleyRuntime {
  kind: 'dist' | 'tsx';
  /** node arguments before the CLI's own. */
  args: string[];
  note: string;
}

function galleyRuntime(): GalleyRuntime {
  const dist: GalleyRuntime = { kind: 'dist', args: [join(ROOT, 'dist/main.js')], note: 'node dist/main.js' };
  const tsx: GalleyRuntime = { kind: 'tsx', args: ['--import', TSX_LOADER, join(ROOT, 'src/main.ts')], note: 'node --import tsx src/main.ts' };
  const wanted = env['BENCH_GALLEY'];
  if (wanted === 'tsx') return tsx;
  if (env['BENCH_BUILD'] !== '0') {
    console.log('[bench] npm run build');
    try {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      const first = `${e.stdout ?? ''}${e.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? 'see npm run build';
      if (wanted === 'dist') throw new Error(`npm run build failed: ${first}`, { cause: err });
      console.warn(`[bench] npm run build failed (${first.trim()}); running Galley from src/ with tsx`);
      return { ...tsx, note: `${tsx.note} (build failed)` };
    }
  }
  if (existsSync(join(ROOT, 'dist/main.js'))) return dist;
  if (wanted === 'dist') throw new Error('dist/main.js is missing');
  return tsx;
}

async function galleyMigrate(runtime: GalleyRuntime, dbUrl: string, dataDir: string): Promise<void> {
  const proc = startProc(process.execPath, [...runtime.args, 'migrate', '--collections', COLLECTIONS_DIR, '--data', dataDir, '--db', dbUrl], { GALLEY_LOG_PRETTY: 'false' });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`galley migrate exited with ${code}:\n${proc.output()}`);
}

interface Server {
  kind: ServerKind;
  label: string;
  base: string;
  proc: Proc;
}

async function startGalley(runtime: GalleyRuntime, dbUrl: string, dataDir: string): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = startProc(
      process.execPath,
      [...runtime.args, 'serve', '--http', `127.0.0.1:${port}`, '--collections', COLLECTIONS_DIR, '--data', dataDir, '--db', dbUrl],
      { GALLEY_LOG_LEVEL: 'warn', GALLEY_LOG_PRETTY: 'false' },
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitHealthy(proc, `${base}/api/health`, 'galley serve');
      return { kind: 'galley', label: 'Galley', base, proc };
    } catch (err) {
      await stopChild(proc.child);
      if (attempt < 3 && /EADDRINUSE/.test(proc.output())) continue;
      throw err;
    }
  }
}

async function startBaseline(kind: Exclude<ServerKind, 'galley'>, engine: Engine, dbUrl: string, poolMax: number): Promise<Server> {
  const script = join(BENCH_DIR, 'baselines', `${kind}.ts`);
  const proc = startProc(process.execPath, ['--import', TSX_LOADER, script], {
    BENCH_DB_URL: dbUrl,
    BENCH_POOL_MAX: String(poolMax),
    BENCH_ARTICLES_ID: collectionIdFor('base', 'articles'),
    BENCH_AUTHORS_ID: collectionIdFor('base', 'authors'),
  });
  const port = await new Promise<number>((done, fail) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /BASELINE_LISTENING (\d+)/.exec(seen);
      if (m) {
        proc.child.stdout!.off('data', onData);
        done(Number(m[1]));
      }
    };
    proc.child.stdout!.on('data', onData);
    void proc.exited.then((code) => fail(new Error(`${kind} exited with ${code} before listening:\n${proc.output()}`)));
    setTimeout(() => fail(new Error(`${kind} did not listen within 60 s:\n${proc.output()}`)), 60_000).unref();
  });
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(proc, `${base}/health`, kind);
  return { kind, label: SERVER_LABEL[kind](engine), base, proc };
}

/** Galley's PostgreSQL pool size: `poolMax ?? N` in src/db/connect.ts (the baselines get the same). */
function galleyPoolMax(): number {
  try {
    const m = /poolMax\s*\?\?\s*(\d+)/.exec(readFileSync(join(ROOT, 'src/db/connect.ts'), 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // fall through
  }
  console.warn('[bench] could not read the pool size from src/db/connect.ts; assuming 10');
  return 10;
}

// ---------------------------------------------------------------------------------------------
// Data: deterministic, identical on both engines.

interface SeedRow {
  [column: string]: string | number | null;
}

interface Seed {
  authors: SeedRow[];
  articles: SeedRow[];
  authorIds: string[];
  articleIds: string[];
  /** Articles matching LIST_FILTER, and the pages that gives at PER_PAGE. */
  matching: number;
  listPages: number;
  expandPages: number;
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
  const authors: SeedRow[] = [];
  for (let i = 0; i < AUTHORS; i++) {
    const created = date(start + i * 1000 + Math.floor(rand() * 1000));
    authors.push({ id: id(), name: `Author ${i}`, email: `author${i}@example.com`, created, updated: created });
  }
  const articles: SeedRow[] = [];
  let matching = 0;
  for (let i = 0; i < ARTICLES; i++) {
    // One minute apart plus random milliseconds: every `created` is distinct, so `sort=-created` has one answer.
    const created = date(start + 86_400_000 + i * 60_000 + Math.floor(rand() * 1000));
    const status = rand() < 0.5 ? 'published' : 'draft';
    const views = Math.floor(rand() * 1000);
    if (status === FILTER_STATUS && views > FILTER_MIN_VIEWS) matching++;
    const author = authors[Math.floor(rand() * authors.length)]!['id'] as string;
    articles.push({ id: id(), title: `Article ${i}: ${status} notes on ${views} things`, status, views, author, created, updated: created });
  }
  return {
    authors,
    articles,
    authorIds: authors.map((a) => a['id'] as string),
    articleIds: articles.map((a) => a['id'] as string),
    matching,
    listPages: Math.max(1, Math.ceil(matching / PER_PAGE)),
    expandPages: Math.ceil(ARTICLES / PER_PAGE),
  };
}

const AUTHOR_COLS = ['id', 'name', 'email', 'created', 'updated'];
const ARTICLE_COLS = ['id', 'title', 'status', 'views', 'author', 'created', 'updated'];

function seedSqlite(file: string, seed: Seed): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    const insert = (table: string, cols: string[], rows: SeedRow[]) => {
      const stmt = db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      for (let i = 0; i < rows.length; i += 1000) db.transaction((batch: SeedRow[]) => batch.forEach((r) => stmt.run(r)))(rows.slice(i, i + 1000));
    };
    insert('authors', AUTHOR_COLS, seed.authors);
    insert('articles', ARTICLE_COLS, seed.articles);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

async function seedPg(url: string, seed: Seed): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const insert = async (table: string, cols: string[], rows: SeedRow[]) => {
      for (let i = 0; i < rows.length; i += 1000) {
        const batch = rows.slice(i, i + 1000);
        const values: unknown[] = [];
        const tuples = batch.map((r) => `(${cols.map((c) => (values.push(r[c]), `$${values.length}`)).join(', ')})`);
        await client.query(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`, values);
      }
    };
    await client.query('BEGIN');
    await insert('authors', AUTHOR_COLS, seed.authors);
    await insert('articles', ARTICLE_COLS, seed.articles);
    await client.query('COMMIT');
    await client.query('VACUUM ANALYZE authors');
    await client.query('VACUUM ANALYZE articles');
  } finally {
    await client.end();
  }
}

/** Removes what POST runs created, so every server's create run starts from the same table. */
async function deleteCreated(engine: Engine, dbUrl: string): Promise<number> {
  if (engine === 'sqlite') {
    const db = new Database(dbUrl.replace(/^sqlite:(\/\/)?/i, ''), { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 30000');
      const n = db.prepare('DELETE FROM articles WHERE title LIKE ?').run(`${POST_PREFIX}%`).changes;
      db.pragma('wal_checkpoint(TRUNCATE)');
      return n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const res = await client.query('DELETE FROM articles WHERE title LIKE $1', [`${POST_PREFIX}%`]);
    await client.query('VACUUM ANALYZE articles');
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Endpoints: request generators (autocannon and probes share them).

interface Req {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

interface Endpoint {
  key: EndpointKey;
  label: string;
  /** A fresh request each call (random id / page / body). */
  next(): Req;
  /** A fixed request whose answer must be the same from every server (null: compare shapes only). */
  fixed: Req | null;
  /** Whether a 200 body has the expected shape; returns the problem or null. */
  check(body: unknown, req: Req): string | null;
}

const RECORDS = '/api/collections/articles/records';
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const randInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function listCheck(body: unknown, expand: boolean): string | null {
  if (!isObj(body) || !Array.isArray(body['items']) || typeof body['totalItems'] !== 'number' || typeof body['totalPages'] !== 'number') return 'not a list response {items,page,perPage,totalItems,totalPages}';
  const items = body['items'] as unknown[];
  if (items.length === 0) return 'empty items';
  if (items.length > PER_PAGE) return `${items.length} items > perPage ${PER_PAGE}`;
  if (expand) {
    const first = items[0];
    if (!isObj(first) || !isObj(first['expand']) || !isObj(first['expand']['author'])) return 'items[0].expand.author missing';
    if (first['expand']['author']['id'] !== first['author']) return 'items[0].expand.author.id differs from items[0].author';
  }
  return null;
}

function endpoints(seed: Seed): Endpoint[] {
  let posted = 0;
  const listPath = (page: number) => `${RECORDS}?filter=${encodeURIComponent(LIST_FILTER)}&sort=-created&page=${page}&perPage=${PER_PAGE}`;
  const all: Endpoint[] = [
    {
      key: 'one',
      label: 'GET one',
      next: () => ({ method: 'GET', path: `${RECORDS}/${pick(seed.articleIds)}` }),
      fixed: { method: 'GET', path: `${RECORDS}/${seed.articleIds[1234]}` },
      check: (b, req) => (isObj(b) && b['id'] === req.path.slice(RECORDS.length + 1) ? null : 'not the requested record'),
    },
    {
      key: 'list',
      label: 'GET list (filter+sort+count)',
      next: () => ({ method: 'GET', path: listPath(randInt(1, seed.listPages)) }),
      fixed: { method: 'GET', path: listPath(2) },
      check: (b) => listCheck(b, false) ?? (isObj(b) && b['totalItems'] === seed.matching ? null : `totalItems is not ${seed.matching}`),
    },
    {
      key: 'expand',
      label: 'GET list + expand',
      next: () => ({ method: 'GET', path: `${RECORDS}?expand=author&page=${randInt(1, seed.expandPages)}&perPage=${PER_PAGE}` }),
      // No sort: the row order is the engine's, so only the shape is compared.
      fixed: null,
      check: (b) => listCheck(b, true),
    },
    {
      key: 'create',
      label: 'POST create',
      next: () => ({
        method: 'POST',
        path: RECORDS,
        body: JSON.stringify({ title: `${POST_PREFIX}${++posted}`, status: 'draft', views: randInt(0, 1000), author: pick(seed.authorIds) }),
      }),
      fixed: null,
      check: (b) => (isObj(b) && typeof b['id'] === 'string' && (b['id'] as string).length === 15 && typeof b['created'] === 'string' ? null : 'not a created record'),
    },
  ];
  return all.filter((e) => ENDPOINT_KEYS.includes(e.key));
}

async function send(server: Server, req: Req): Promise<{ status: number; text: string }> {
  const res = await fetch(server.base + req.path, {
    method: req.method,
    headers: req.body ? { 'content-type': 'application/json' } : {},
    body: req.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

/** One request of the endpoint: null when it answered 200 with the right shape, else the problem. */
async function probe(server: Server, endpoint: Endpoint): Promise<string | null> {
  const req = endpoint.next();
  const where = `${req.method} ${req.path}`;
  try {
    const { status, text } = await send(server, req);
    if (status !== 200) return `${where} → ${status} ${text.slice(0, 200).trim()}`;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `${where} → 200 but the body is not JSON: ${text.slice(0, 120)}`;
    }
    const problem = endpoint.check(body, req);
    return problem ? `${where} → 200 but ${problem}` : null;
  } catch (err) {
    return `${where} → ${String(err)}`;
  }
}

/** Keys sorted, so that key order does not count. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObj(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

/** Each value replaced by its type (arrays by their first element), for shape comparisons. */
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

/** Compares `server`'s answer with the reference's: same JSON for fixed requests, same shape otherwise. */
async function parity(server: Server, reference: Server, endpoint: Endpoint): Promise<string | null> {
  const req = endpoint.fixed ?? endpoint.next();
  const [a, b] = await Promise.all([send(server, req), send(reference, endpoint.fixed ? req : endpoint.next())]);
  if (a.status !== 200 || b.status !== 200) return `status ${a.status} vs ${b.status}`;
  const [ja, jb] = [JSON.parse(a.text) as unknown, JSON.parse(b.text) as unknown];
  return endpoint.fixed ? firstDifference(canonical(ja), canonical(jb)) : firstDifference(shape(ja), shape(jb));
}

// ---------------------------------------------------------------------------------------------
// Load

interface RunResult {
  endpoint: EndpointKey;
  server: ServerKind;
  label: string;
  status: 'ok' | 'invalid' | 'skipped';
  /** Why the run is invalid or skipped. */
  note?: string;
  rps?: number;
  p50?: number;
  p99?: number;
  requests?: number;
  non2xx?: number;
  errors?: number;
  timeouts?: number;
  statusCodes?: Record<string, number>;
  /** Difference from the primary baseline's answer, if any (Galley and knex rows). */
  parity?: string;
  /** req/s ÷ the primary baseline's req/s. */
  ratio?: number;
  /** CPU use during the measured run, in cores: the server + this process (autocannon), PostgreSQL, and everything else on the machine (which skews results). */
  cpu?: { benchAndServer: number; postgres: number; other: number };
  target?: number;
}


async function load(server: Server, endpoint: Endpoint, seconds: number): Promise<autocannon.Result> {
  const first = endpoint.next();
  return autocannon({
    url: server.base,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    headers: first.body ? { 'content-type': 'application/json' } : {},
    requests: [
      {
        method: first.method,
        path: first.path,
        setupRequest: (request) => {
          const r = endpoint.next();
          return r.body === undefined ? { ...request, method: r.method, path: r.path } : { ...request, method: r.method, path: r.path, body: r.body };
        },
      },
    ],
  });
}

async function measure(server: Server, endpoint: Endpoint): Promise<RunResult> {
  const row: RunResult = { endpoint: endpoint.key, server: server.kind, label: server.label, status: 'ok' };
  if (WARMUP > 0) await load(server, endpoint, WARMUP);
  const before = cpuSnapshot([process.pid, server.proc.child.pid ?? -1]);
  const r = await load(server, endpoint, DURATION);
  const after = cpuSnapshot([process.pid, server.proc.child.pid ?? -1]);
  if (before && after) row.cpu = cpuUse(before, after);
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  Object.assign(row, {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    const bad = Object.entries(statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`);
    row.status = 'invalid';
    row.note = `INVALID: ${r.non2xx} non-2xx${bad.length ? ` (${bad.join(', ')})` : ''}, ${r.errors} socket errors, ${r.timeouts} timeouts`;
  }
  if (server.proc.child.exitCode !== null) {
    row.status = 'invalid';
    row.note = `server exited during the run:\n${server.proc.output()}`;
  }
  return row;
}

interface EngineReport {
  engine: Engine;
  dbUrl: string;
  poolMax: number | null;
  reference: string;
  seed: { authors: number; articles: number; matchingFilter: number; listPages: number; expandPages: number };
  rows: RunResult[];
  skipped?: string;
}

async function benchEngine(engine: Engine, runtime: GalleyRuntime | null, work: string, seed: Seed, poolMax: number): Promise<EngineReport> {
  const dataDir = join(work, engine);
  mkdirSync(dataDir, { recursive: true });
  const dbUrl = await freshBenchDatabase(engine, { dataDir, adminUrl: PG_ADMIN, name: PG_DB, keep: KEEP, cleanups });
  const primary: ServerKind = engine === 'postgres' ? 'express-pg' : 'express-sqlite';
  const report: EngineReport = {
    engine,
    dbUrl: dbUrl.replace(/:[^:@/]*@/, ':***@'),
    poolMax: engine === 'postgres' ? poolMax : null,
    reference: SERVER_LABEL[primary](engine),
    seed: { authors: AUTHORS, articles: ARTICLES, matchingFilter: seed.matching, listPages: seed.listPages, expandPages: seed.expandPages },
    rows: [],
  };

  console.log(`[bench] ${engine}: galley migrate (${runtime ? runtime.note : 'node --import tsx src/main.ts'})`);
  await galleyMigrate(runtime ?? { kind: 'tsx', args: ['--import', TSX_LOADER, join(ROOT, 'src/main.ts')], note: '' }, dbUrl, dataDir);
  console.log(`[bench] ${engine}: seeding ${AUTHORS} authors, ${ARTICLES} articles`);
  if (engine === 'sqlite') seedSqlite(dbUrl.slice('sqlite:'.length), seed);
  else await seedPg(dbUrl, seed);

  const servers: Server[] = [];
  try {
    if (runtime) {
      console.log(`[bench] ${engine}: starting Galley`);
      servers.push(await startGalley(runtime, dbUrl, dataDir));
    }
    if (ONLY !== 'galley') {
      for (const kind of [primary, 'express-knex'] as const) {
        console.log(`[bench] ${engine}: starting ${SERVER_LABEL[kind](engine)}`);
        servers.push(await startBaseline(kind, engine, dbUrl, poolMax));
      }
    }
    const reference = servers.find((s) => s.kind === primary);
    for (const endpoint of endpoints(seed)) {
      const probes = new Map<Server, string | null>();
      for (const server of servers) probes.set(server, await probe(server, endpoint));
      for (const server of servers) {
        const problem = probes.get(server);
        const label = `${engine} ${endpoint.label} · ${server.label}`;
        let row: RunResult;
        if (problem) {
          row = { endpoint: endpoint.key, server: server.kind, label: server.label, status: 'skipped', note: `not run: ${problem}` };
          console.log(`[bench] ${label}: SKIPPED, ${problem}`);
        } else {
          if (reference && server !== reference && !probes.get(reference)) {
            const diff = await parity(server, reference, endpoint).catch((err: unknown) => String(err));
            if (diff) console.log(`[bench] ${label}: answer differs from ${reference.label}: ${diff}`);
            row = await measure(server, endpoint);
            if (diff) row.parity = diff;
          } else {
            row = await measure(server, endpoint);
          }
          console.log(`[bench] ${label}: ${fmt(row.rps)} req/s, p50 ${fmt(row.p50, 1)} ms, p99 ${fmt(row.p99, 1)} ms, other CPU ${fmt(row.cpu?.other, 2)} cores${row.note ? `, ${row.note}` : ''}`);
        }
        report.rows.push(row);
        if (endpoint.key === 'create') await deleteCreated(engine, dbUrl);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => stopChild(s.proc.child)));
  }
  // Ratios against the primary baseline.
  for (const row of report.rows) {
    const ref = report.rows.find((r) => r.endpoint === row.endpoint && r.server === primary);
    if (row.server !== primary && row.status === 'ok' && ref?.status === 'ok' && ref.rps) row.ratio = row.rps! / ref.rps;
    if (row.server === 'galley') row.target = TARGETS[row.endpoint];
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function markdown(report: EngineReport): string {
  const lines = [
    `### ${report.engine === 'postgres' ? 'PostgreSQL' : 'SQLite'} — ratio vs ${report.reference}${report.poolMax !== null ? ` (pool size ${report.poolMax} for Galley and both baselines)` : ' (one connection each)'}`,
    '',
  ];
  if (report.skipped) return [...lines, `skipped: ${report.skipped}`, ''].join('\n');
  const endpointLabel = (k: EndpointKey) => ({ one: 'GET one', list: 'GET list (filter+sort+count)', expand: 'GET list + expand', create: 'POST create' })[k];
  lines.push('| endpoint | server | req/s | p50 ms | p99 ms | ratio vs baseline | target | note |', '|---|---|---:|---:|---:|---:|---|---|');
  for (const r of report.rows) {
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : r.status === 'ok' && r.label === report.reference ? '1.00× (ref)' : '—';
    const target = r.target !== undefined ? `≥ ${r.target.toFixed(2)}×${r.ratio !== undefined ? (r.ratio >= r.target ? ' ✓' : ' ✗') : ''}` : '';
    const busy = r.cpu && r.cpu.other > 0.2 ? `other processes used ${r.cpu.other.toFixed(2)} cores` : '';
    const notes = [r.note, r.parity ? `answer differs from ${report.reference}: ${r.parity}` : '', busy].filter(Boolean).join('; ').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    lines.push(`| ${endpointLabel(r.endpoint)} | ${r.label} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio} | ${target} | ${notes} |`);
  }
  lines.push('');
  return lines.join('\n');
}

function gitDescribe(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() ? '+dirty src' : '';
    return sha + dirty;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const engines = ENGINE_NAMES.filter((e): e is Engine => e === 'sqlite' || e === 'postgres');
  if (engines.length !== ENGINE_NAMES.length) throw new Error(`BENCH_ENGINES: expected sqlite and/or postgres, got ${ENGINE_NAMES.join(',')}`);
  if (ONLY && ONLY !== 'galley' && ONLY !== 'baselines') throw new Error(`BENCH_ONLY: expected galley or baselines, got ${ONLY}`);
  const runtime = ONLY === 'baselines' ? null : galleyRuntime();
  const poolMax = galleyPoolMax();
  const seed = generateSeed();
  const work = mkdtempSync(join(tmpdir(), 'galley-bench-records-'));
  if (!KEEP) cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  else console.log(`[bench] keeping ${work}`);
  const cpu = cpus();
  const meta = {
    date: new Date().toISOString(),
    git: gitDescribe(),
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    galley: runtime ? runtime.note : 'not run (BENCH_ONLY=baselines)',
    durationSec: DURATION,
    warmupSec: WARMUP,
    connections: CONNECTIONS,
    pgPoolMax: poolMax,
    listQuery: `?filter=${LIST_FILTER}&sort=-created&page=N&perPage=${PER_PAGE}`,
    expandQuery: `?expand=author&page=N&perPage=${PER_PAGE}`,
    targets: TARGETS,
  };
  console.log(`[bench] ${meta.cpus}; node ${meta.node}; ${CONNECTIONS} connections; ${WARMUP} s warm-up + ${DURATION} s per run; Galley: ${meta.galley}`);

  const reports: EngineReport[] = [];
  for (const engine of engines) {
    if (engine === 'postgres') {
      const problem = await pgReachable(PG_ADMIN);
      if (problem) {
        if (ENGINES_EXPLICIT) throw new Error(`PostgreSQL at ${PG_ADMIN.replace(/:[^:@/]*@/, ':***@')} is unreachable: ${problem}`);
        console.log(`[bench] postgres skipped: ${PG_ADMIN.replace(/:[^:@/]*@/, ':***@')} is unreachable (${problem}); set BENCH_PG`);
        reports.push({ engine, dbUrl: '', poolMax, reference: 'express+pg', seed: { authors: 0, articles: 0, matchingFilter: 0, listPages: 0, expandPages: 0 }, rows: [], skipped: problem });
        continue;
      }
    }
    reports.push(await benchEngine(engine, runtime, work, seed, poolMax));
  }

  console.log(`\n## Records API — ${meta.date.slice(0, 10)}, ${meta.git}, ${meta.cpus}, node ${meta.node}`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s per run; Galley: ${meta.galley}; ratios are req/s ÷ the reference baseline's.`);
  const busiest = Math.max(0, ...reports.flatMap((r) => r.rows.map((row) => row.cpu?.other ?? 0)));
  if (busiest > 0.2) console.log(`**Warning:** other processes used up to ${busiest.toFixed(2)} of ${cpu.length} CPU cores during a run; these numbers are skewed (see \`cpu.other\` per run in the JSON).`);
  console.log('');
  for (const report of reports) console.log(markdown(report));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `records-${meta.date.slice(0, 19).replace(/:/g, '-')}.json`);
  const round = (n: number | undefined, d = 2) => (n === undefined ? undefined : Math.round(n * 10 ** d) / 10 ** d);
  const json = {
    ...meta,
    engines: reports.map((r) => ({ ...r, rows: r.rows.map((row) => ({ ...row, rps: round(row.rps, 1), ratio: round(row.ratio, 3) })) })),
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`[bench] wrote ${relative(ROOT, file)}`);
  const failed = reports.flatMap((r) => r.rows).filter((r) => r.status !== 'ok');
  if (failed.length) {
    console.log(`[bench] ${failed.length} run(s) not valid: ${failed.map((r) => `${r.endpoint}/${r.server}`).join(', ')}`);
    process.exitCode = 1;
  }
}

try {
  await main();
} catch (err) {
  console.error(`[bench] failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
