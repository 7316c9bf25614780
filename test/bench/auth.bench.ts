/**
 * Auth benchmark: `npx tsx test/bench/auth.bench.ts` (npm run bench:auth).
 *
 * Per engine (SQLite; PostgreSQL when it answers) it starts Galley *in this process* through the real
 * serve path (loadConfig → createApp → migrateForServe → startServer) with the example collections
 * (collections/), auth rate limits off and request logs off, seeds 100 users (argon2id hashes made by
 * Galley) and 1,000 published posts by 10 of them, and measures:
 *
 *   1. POST /api/collections/users/auth-with-password — identities rotate over the 100 users — against a
 *      bare express 5 endpoint (also in this process) that only runs `@node-rs/argon2` verify of the same
 *      stored hashes: the ratio is Galley's overhead over the KDF itself. Both servers run on libuv's
 *      thread pool (UV_THREADPOOL_SIZE, default 4) for the KDF.
 *   2. GET /api/collections/posts/records?perPage=30 as a guest and signed in (Authorization: a token from
 *      auth-with-password, rotating over the 100 users); the ratio is authenticated ÷ guest.
 *
 * For every measured run it records this process's event-loop delay with perf_hooks.monitorEventLoopDelay
 * (the servers are the only thing on this loop: autocannon runs in a forked child process), reported as
 * the histogram minus the sampling interval, as @fastify/under-pressure does. Before the runs it times the
 * KDF alone, one call at a time (median of 20 hashes and 20 verifies, interleaved), and Galley's token check
 * (Tokens.resolve, what a signed-in request runs first) alone in process. CPU use by other processes during
 * each run is noted, as in records.bench.ts. Prints a table per engine and writes
 * test/bench/results/auth-<date>.json.
 *
 * Environment:
 *   BENCH_DURATION          seconds per measured run (default 10)
 *   BENCH_WARMUP            seconds of warm-up before each run (default 2; 0 disables)
 *   BENCH_CONNECTIONS       autocannon connections for the list runs (default 50)
 *   BENCH_AUTH_CONNECTIONS  autocannon connections for the sign-in runs (default 16: the KDF saturates the
 *                           thread pool long before; more only lengthens the queue, i.e. the latency)
 *   BENCH_ENGINES           comma list of sqlite,postgres (default: both; PostgreSQL is skipped when
 *                           unreachable unless named here explicitly)
 *   BENCH_PG                admin URL of a PostgreSQL server (default GALLEY_TEST_PG, else
 *                           postgres://postgres@127.0.0.1:5432/postgres); the database `galley_bench_auth`
 *                           is dropped and created there, and dropped again at the end
 *   BENCH_ROUNDS            rounds per compared pair, in alternating order (A B, B A, …; default 2): a row
 *                           shows the mean req/s and the median latencies and loop delays of its rounds
 *   BENCH_ELD_RESOLUTION    event-loop delay sampling interval in ms (default 10)
 *   BENCH_KEEP              1 keeps the temporary folder and the galley_bench_auth database
 * Exit code 1 when a run could not be made or was invalid (any non-2xx or socket error).
 */
import { cpuSnapshot, cpuUse } from './cpu.js';
import { startLoadWorker, type LoadJob, type LoadSummary, type LoadWorker } from './load.js';
import { freshBenchDatabase, pgReachable } from './database.js';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import express from 'express';
import { createApp, migrateForServe, startServer, type App, type RunningServer } from '../../src/app.js';
import { Tokens } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { ARGON2_PARAMS } from '../../src/passwords/index.js';
import { createRecord } from '../../src/records/service.js';
import type { RequestInfo } from '../../src/records/types.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COLLECTIONS_DIR = join(ROOT, 'collections');
const RESULTS_DIR = join(ROOT, 'test/bench/results');

const env = process.env;
const DURATION = Number(env['BENCH_DURATION'] ?? 10);
const WARMUP = Number(env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 50);
const AUTH_CONNECTIONS = Number(env['BENCH_AUTH_CONNECTIONS'] ?? 16);
const ENGINES_EXPLICIT = Boolean(env['BENCH_ENGINES']);
const ENGINE_NAMES = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DB = 'galley_bench_auth';
const KEEP = env['BENCH_KEEP'] === '1';
const ELD_RESOLUTION_MS = Number(env['BENCH_ELD_RESOLUTION'] ?? 10);

const USERS = 100;
const POSTS = 1000;
const POST_AUTHORS = 10;
const PER_PAGE = 30;
const PASSWORD = 'bench-password-1';
const KDF_SAMPLES = 20;
const SIGN_IN_PATH = '/api/collections/users/auth-with-password';
const LIST_PATH = `/api/collections/posts/records?perPage=${PER_PAGE}`;
const BASELINE_PATH = '/verify';
const THREADPOOL = Number(env['UV_THREADPOOL_SIZE'] || 4);
const SETTLE_MS = 1500;
const ROUNDS = Math.max(1, Number(env['BENCH_ROUNDS'] ?? 2));
/** Sequential in-process calls of Galley's token check (Tokens.resolve), for the per-request cost of a signed-in request. */
const RESOLVE_SAMPLES = 500;

type Engine = 'sqlite' | 'postgres';
type RunKey = 'signin-galley' | 'signin-kdf' | 'list-guest' | 'list-auth';

const RUN_LABEL: Record<RunKey, string> = {
  'signin-galley': 'POST auth-with-password · Galley',
  'signin-kdf': 'POST verify · express + argon2 verify only',
  'list-guest': 'GET posts?perPage=30 · guest',
  'list-auth': 'GET posts?perPage=30 · signed in',
};

// ---------------------------------------------------------------------------------------------
// CPU use during a run (Linux /proc; same method as records.bench.ts).


// ---------------------------------------------------------------------------------------------
// Setup: database, Galley in process, seed data, the KDF-only baseline.

const cleanups: (() => Promise<void>)[] = [];

async function cleanupAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((err: unknown) => console.error(`[bench] cleanup failed: ${String(err)}`));
}

const SEEDER: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'default', query: {}, headers: {}, body: {} };

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inPool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

interface SeedUser {
  id: string;
  email: string;
  hash: string;
}

async function seed(app: App): Promise<SeedUser[]> {
  const deps = { runtime: app.records, runner: app.db.runner() };
  const emails = Array.from({ length: USERS }, (_, i) => `bench-user-${i}@example.com`);
  // Through the records service, as the API would: validation and Galley's own argon2id hashing.
  const users = await inPool(emails, 4, async (email, i) => {
    const { record } = await createRecord(deps, 'users', { email, password: PASSWORD, passwordConfirm: PASSWORD, name: `Bench User ${i}`, role: 'author' }, {}, SEEDER);
    return String(record['id']);
  });
  const start = Date.UTC(2024, 0, 1);
  await inPool(Array.from({ length: POSTS }, (_, i) => i), 4, (i) =>
    createRecord(
      deps,
      'posts',
      {
        title: `Bench post ${i}: notes on ${i % 97} things`,
        slug: `bench-post-${i}`,
        body: `<p>Post ${i}, a paragraph of body text long enough to look like a real one.</p>`,
        author: users[i % POST_AUTHORS],
        status: 'published',
        categories: ['news'],
        views: i,
        featured: i % 10 === 0,
        publishedAt: new Date(start + i * 60_000).toISOString().replace('T', ' '),
      },
      {},
      SEEDER,
    ),
  );
  const rows = await deps.runner.all('SELECT "id", "email", "password" FROM "users" ORDER BY "email"', []);
  const byId = new Map(rows.map((r) => [String(r['id']), r]));
  return users.map((id) => {
    const row = byId.get(id)!;
    return { id, email: String(row['email']), hash: String(row['password']) };
  });
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

/** express 5, one route: parse the JSON body, look up the stored hash, argon2 verify, answer. Nothing else. */
async function startKdfBaseline(users: SeedUser[]): Promise<Listening> {
  const hashes = new Map(users.map((u) => [u.email, u.hash]));
  const app = express();
  app.post(BASELINE_PATH, express.json(), async (req, res) => {
    const body = req.body as { identity?: unknown; password?: unknown };
    const hash = hashes.get(String(body.identity));
    const ok = hash !== undefined && (await argon2Verify(hash, String(body.password)).catch(() => false));
    res.status(ok ? 200 : 400).json({ ok });
  });
  const server = await new Promise<Server>((done) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => done(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Probes: each server answers the request as expected before it is loaded.

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the message
  }
  return { status: res.status, body };
}

const postJson = (url: string, body: unknown) => send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Signs every user in through Galley: the probe of the sign-in endpoint, and the tokens for the signed-in list. */
async function signInAll(base: string, users: SeedUser[]): Promise<string[]> {
  return inPool(users, 4, async (u) => {
    const r = await postJson(base + SIGN_IN_PATH, { identity: u.email, password: PASSWORD });
    if (r.status !== 200 || !isObj(r.body) || typeof r.body['token'] !== 'string' || !isObj(r.body['record']) || r.body['record']['id'] !== u.id) {
      throw new Error(`probe: POST ${SIGN_IN_PATH} as ${u.email} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    }
    return r.body['token'];
  });
}

async function probeList(base: string, authorization: string | null): Promise<number> {
  const r = await send(base + LIST_PATH, authorization ? { headers: { authorization } } : {});
  const who = authorization ? 'signed in' : 'guest';
  if (r.status !== 200 || !isObj(r.body) || !Array.isArray(r.body['items'])) throw new Error(`probe (${who}): GET ${LIST_PATH} → ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  if (r.body['items'].length !== PER_PAGE) throw new Error(`probe (${who}): GET ${LIST_PATH} gave ${r.body['items'].length} items, expected ${PER_PAGE}`);
  return Number(r.body['totalItems']);
}

// ---------------------------------------------------------------------------------------------
// Measured runs

interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

interface RunResult extends Partial<LoadSummary> {
  key: RunKey;
  label: string;
  status: 'ok' | 'invalid';
  note?: string;
  connections: number;
  /** This process's event-loop delay during the measured run, ms (histogram minus the sampling interval). */
  loopDelay?: LoopDelay;
  cpu?: { benchAndServer: number; postgres: number; other: number };
  /** With BENCH_ROUNDS > 1: each round's own result (this row combines them). */
  rounds?: RunResult[];
}

/**
 * autocannon stops at the deadline with up to one request per connection still in the server, which then
 * finishes it: a pause lets that tail drain before the next measurement (or the server's shutdown) starts.
 */
const settle = () => new Promise((done) => setTimeout(done, SETTLE_MS));

async function measure(worker: LoadWorker, key: RunKey, job: Omit<LoadJob, 'id' | 'duration'>): Promise<RunResult> {
  if (WARMUP > 0) {
    await worker.run({ ...job, duration: WARMUP });
    await settle();
  }
  const pids = [process.pid, worker.child.pid ?? -1];
  const histogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const before = cpuSnapshot(pids);
  histogram.enable();
  let r: LoadSummary;
  try {
    r = await worker.run({ ...job, duration: DURATION });
  } finally {
    histogram.disable();
  }
  const after = cpuSnapshot(pids);
  await settle();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
  const row: RunResult = {
    key,
    label: RUN_LABEL[key],
    status: 'ok',
    connections: job.connections,
    ...r,
    loopDelay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean) },
  };
  if (before && after) row.cpu = cpuUse(before, after);
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    const bad = Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`);
    row.status = 'invalid';
    row.note = `INVALID: ${r.non2xx} non-2xx${bad.length ? ` (${bad.join(', ')})` : ''}, ${r.errors} socket errors, ${r.timeouts} timeouts`;
  }
  console.log(
    `[bench] ${RUN_LABEL[key]}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms; loop delay p50 ${fmt(row.loopDelay!.p50, 2)} / p99 ${fmt(row.loopDelay!.p99, 2)} / max ${fmt(row.loopDelay!.max, 1)} ms; other CPU ${fmt(row.cpu?.other, 2)} cores${row.note ? `; ${row.note}` : ''}`,
  );
  return row;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One row for the rounds of a run: mean req/s, median latencies and loop delays, worst max; every round kept. */
function combine(rounds: RunResult[]): RunResult {
  const first = rounds[0]!;
  if (rounds.length === 1) return first;
  const of = (pick: (r: RunResult) => number | undefined) => rounds.map(pick).filter((n): n is number => n !== undefined);
  const sum = (pick: (r: RunResult) => number | undefined) => of(pick).reduce((x, y) => x + y, 0);
  const invalid = rounds.filter((r) => r.status !== 'ok');
  const statusCodes: Record<string, number> = {};
  for (const r of rounds) for (const [code, n] of Object.entries(r.statusCodes ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  const delays = rounds.map((r) => r.loopDelay).filter((d): d is LoopDelay => d !== undefined);
  const cpu = rounds.map((r) => r.cpu).filter((c) => c !== undefined);
  return {
    key: first.key,
    label: first.label,
    connections: first.connections,
    status: invalid.length ? 'invalid' : 'ok',
    ...(invalid.length ? { note: invalid.map((r) => r.note).join('; ') } : {}),
    rps: sum((r) => r.rps) / rounds.length,
    p50: median(of((r) => r.p50)),
    p90: median(of((r) => r.p90)),
    p99: median(of((r) => r.p99)),
    max: Math.max(...of((r) => r.max)),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    statusCodes,
    ...(delays.length
      ? { loopDelay: { p50: median(delays.map((d) => d.p50)), p99: median(delays.map((d) => d.p99)), max: Math.max(...delays.map((d) => d.max)), mean: median(delays.map((d) => d.mean)) } }
      : {}),
    ...(cpu.length ? { cpu: { benchAndServer: median(cpu.map((c) => c.benchAndServer)), postgres: median(cpu.map((c) => c.postgres)), other: Math.max(...cpu.map((c) => c.other)) } } : {}),
    rounds,
  };
}

interface EngineReport {
  engine: Engine;
  dbUrl: string;
  seed?: { users: number; posts: number; postAuthors: number; totalItemsGuest: number; totalItemsSignedIn: number };
  rows: RunResult[];
  /** Tokens.resolve (what every signed-in request runs first), sequential, in process: µs. */
  tokenResolve?: { medianUs: number; p99Us: number };
  /** Galley sign-in req/s ÷ the KDF-only baseline's. */
  signInRatio?: number;
  /** Signed-in list req/s ÷ guest list req/s. */
  listRatio?: number;
  skipped?: string;
}

async function benchEngine(engine: Engine, worker: LoadWorker, work: string): Promise<EngineReport> {
  const dataDir = join(work, engine);
  mkdirSync(dataDir, { recursive: true });
  const dbUrl = await freshBenchDatabase(engine, { dataDir, adminUrl: PG_ADMIN, name: PG_DB, keep: KEEP, cleanups });
  const report: EngineReport = { engine, dbUrl: dbUrl.replace(/:[^:@/]*@/, ':***@'), rows: [] };

  // The serve path, configured as `galley serve` would be with these variables (and nothing from the shell).
  const config = loadConfig(
    { collections: COLLECTIONS_DIR, data: dataDir, db: dbUrl, http: '127.0.0.1:0' },
    { GALLEY_LOG_LEVEL: 'error', GALLEY_LOG_PRETTY: 'false', GALLEY_RATE_LIMIT_AUTH_IP: '0', GALLEY_RATE_LIMIT_AUTH_IDENTITY: '0' },
    false,
  );
  const app = await createApp(config, createLogger(config));
  let running: RunningServer | null = null;
  let baseline: Listening | null = null;
  try {
    console.log(`[bench] ${engine}: migrating the example collections, seeding ${USERS} users and ${POSTS} posts`);
    await migrateForServe(app);
    const t0 = performance.now();
    const users = await seed(app);
    console.log(`[bench] ${engine}: seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    running = await startServer(app);
    baseline = await startKdfBaseline(users);
    const galley = running.url;

    const tokens = await signInAll(galley, users);
    const baselineProbe = await postJson(baseline.url + BASELINE_PATH, { identity: users[0]!.email, password: PASSWORD });
    if (baselineProbe.status !== 200) throw new Error(`probe: baseline POST ${BASELINE_PATH} → ${baselineProbe.status}`);
    const totalGuest = await probeList(galley, null);
    const totalSignedIn = await probeList(galley, tokens[POST_AUTHORS]!);
    report.seed = { users: USERS, posts: POSTS, postAuthors: POST_AUTHORS, totalItemsGuest: totalGuest, totalItemsSignedIn: totalSignedIn };
    if (totalGuest !== POSTS || totalSignedIn !== POSTS) console.warn(`[bench] ${engine}: totalItems guest ${totalGuest}, signed in ${totalSignedIn}; expected ${POSTS} for both`);

    report.tokenResolve = await timeTokenResolve(app, tokens);

    const bodies = users.map((u) => JSON.stringify({ identity: u.email, password: PASSWORD }));
    const jobs: Record<RunKey, Omit<LoadJob, 'id' | 'duration'>> = {
      'signin-galley': { url: galley, method: 'POST', path: SIGN_IN_PATH, connections: AUTH_CONNECTIONS, bodies },
      'signin-kdf': { url: baseline.url, method: 'POST', path: BASELINE_PATH, connections: AUTH_CONNECTIONS, bodies },
      'list-guest': { url: galley, method: 'GET', path: LIST_PATH, connections: CONNECTIONS },
      'list-auth': { url: galley, method: 'GET', path: LIST_PATH, connections: CONNECTIONS, authorizations: tokens },
    };
    // Each pair is measured in rounds of alternating order (A B, B A, …), so that a change in the machine's
    // load during the pair weighs on both sides alike.
    for (const [a, b] of [['signin-galley', 'signin-kdf'], ['list-guest', 'list-auth']] as const) {
      const runs: Record<RunKey, RunResult[]> = { 'signin-galley': [], 'signin-kdf': [], 'list-guest': [], 'list-auth': [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const key of round % 2 === 0 ? [a, b] : [b, a]) runs[key].push(await measure(worker, key, jobs[key]));
      }
      report.rows.push(combine(runs[a]), combine(runs[b]));
    }
  } finally {
    await baseline?.close();
    if (running) await running.close();
    else await app.db.close();
  }
  const row = (k: RunKey) => report.rows.find((r) => r.key === k && r.status === 'ok' && r.rps);
  const [galleySignIn, kdf, guest, signedIn] = [row('signin-galley'), row('signin-kdf'), row('list-guest'), row('list-auth')];
  if (galleySignIn && kdf) report.signInRatio = galleySignIn.rps! / kdf.rps!;
  if (guest && signedIn) report.listRatio = signedIn.rps! / guest.rps!;
  return report;
}

/** The token check alone, as the HTTP layer runs it for an Authorization header (rotating over the users' tokens). */
async function timeTokenResolve(app: App, tokens: string[]): Promise<{ medianUs: number; p99Us: number }> {
  const resolver = new Tokens(app.db.runner(), () => app.records);
  const times: number[] = [];
  for (let i = -50; i < RESOLVE_SAMPLES; i++) {
    const t = performance.now();
    const identity = await resolver.resolve(tokens[(i + 50) % tokens.length]);
    if (i >= 0) times.push((performance.now() - t) * 1000);
    if (!identity) throw new Error('Tokens.resolve refused a token from auth-with-password');
  }
  times.sort((a, b) => a - b);
  return { medianUs: times[Math.floor(times.length / 2)]!, p99Us: times[Math.floor(times.length * 0.99)]! };
}

// ---------------------------------------------------------------------------------------------
// KDF alone, one call at a time.

interface KdfTimes {
  params: string;
  hashMedianMs: number;
  verifyMedianMs: number;
  /** Thread-pool size and cores: the most verifications that can run at once. */
  parallel: number;
  /** parallel ÷ verify time: the sign-ins per second the KDF alone allows on this machine. */
  ceilingRps: number;
}

async function timeKdf(): Promise<KdfTimes> {
  const hashTimes: number[] = [];
  const verifyTimes: number[] = [];
  // Interleaved, so that a change in the machine's load affects both series alike; one warm-up pair first.
  for (let i = -1; i < KDF_SAMPLES; i++) {
    let t = performance.now();
    const stored = await argon2Hash(PASSWORD, ARGON2_PARAMS);
    if (i >= 0) hashTimes.push(performance.now() - t);
    t = performance.now();
    if (!(await argon2Verify(stored, PASSWORD))) throw new Error('argon2 verify of a fresh hash failed');
    if (i >= 0) verifyTimes.push(performance.now() - t);
  }
  const parallel = Math.min(THREADPOOL, cpus().length);
  const verifyMedianMs = median(verifyTimes);
  return {
    params: `argon2id m=${ARGON2_PARAMS.memoryCost} KiB t=${ARGON2_PARAMS.timeCost} p=${ARGON2_PARAMS.parallelism}`,
    hashMedianMs: median(hashTimes),
    verifyMedianMs,
    parallel,
    ceilingRps: (parallel * 1000) / verifyMedianMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function markdown(report: EngineReport): string {
  const lines = [`### ${report.engine === 'postgres' ? 'PostgreSQL' : 'SQLite'}`, ''];
  if (report.skipped) return [...lines, `skipped: ${report.skipped}`, ''].join('\n');
  lines.push(
    '| run | conns | req/s | p50 ms | p99 ms | ratio | loop delay p50 / p99 / max ms | note |',
    '|---|---:|---:|---:|---:|---:|---|---|',
  );
  for (const r of report.rows) {
    const ratio =
      r.key === 'signin-galley' ? `${fmt(report.signInRatio, 2)}× KDF` : r.key === 'list-auth' ? `${fmt(report.listRatio, 2)}× guest` : r.key === 'signin-kdf' || r.key === 'list-guest' ? '1.00× (ref)' : '';
    const d = r.loopDelay;
    const delay = d ? `${fmt(d.p50, 2)} / ${fmt(d.p99, 2)} / ${fmt(d.max, 1)}` : '—';
    const busy = r.cpu && r.cpu.other > 0.2 ? `other processes used ${r.cpu.other.toFixed(2)} cores` : '';
    const notes = [r.note, busy].filter(Boolean).join('; ').replace(/\|/g, '\\|');
    lines.push(`| ${r.label} | ${r.connections} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${ratio} | ${delay} | ${notes} |`);
  }
  if (report.tokenResolve) {
    lines.push('', `Token check alone (Tokens.resolve, in process, one at a time): median ${fmt(report.tokenResolve.medianUs)} µs, p99 ${fmt(report.tokenResolve.p99Us)} µs.`);
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
  const work = mkdtempSync(join(tmpdir(), 'galley-bench-auth-'));
  if (!KEEP) cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  else console.log(`[bench] keeping ${work}`);
  const cpu = cpus();
  const meta = {
    date: new Date().toISOString(),
    git: gitDescribe(),
    node: process.version,
    cpus: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    uvThreadpoolSize: THREADPOOL,
    galley: 'in process: loadConfig → createApp → migrateForServe → startServer (rate limits off, log level error)',
    durationSec: DURATION,
    warmupSec: WARMUP,
    rounds: ROUNDS,
    connections: { signIn: AUTH_CONNECTIONS, list: CONNECTIONS },
    eventLoopResolutionMs: ELD_RESOLUTION_MS,
    seed: { users: USERS, posts: POSTS, postAuthors: POST_AUTHORS },
  };
  console.log(`[bench] ${meta.cpus}; node ${meta.node}; UV_THREADPOOL_SIZE ${THREADPOOL}; ${WARMUP} s warm-up + ${DURATION} s per run`);
  console.log(`[bench] timing the KDF alone (${KDF_SAMPLES} hashes and ${KDF_SAMPLES} verifies, interleaved, one at a time)`);
  const kdf = await timeKdf();
  console.log(`[bench] ${kdf.params}: hash median ${kdf.hashMedianMs.toFixed(1)} ms, verify median ${kdf.verifyMedianMs.toFixed(1)} ms`);

  const worker = startLoadWorker();
  cleanups.push(() => worker.stop());
  const reports: EngineReport[] = [];
  for (const engine of engines) {
    if (engine === 'postgres') {
      const problem = await pgReachable(PG_ADMIN);
      if (problem) {
        if (ENGINES_EXPLICIT) throw new Error(`PostgreSQL at ${PG_ADMIN.replace(/:[^:@/]*@/, ':***@')} is unreachable: ${problem}`);
        console.log(`[bench] postgres skipped: unreachable (${problem}); set BENCH_PG`);
        reports.push({ engine, dbUrl: '', rows: [], skipped: problem });
        continue;
      }
    }
    reports.push(await benchEngine(engine, worker, work));
  }

  console.log(`\n## Auth — ${meta.date.slice(0, 10)}, ${meta.git}, ${meta.cpus}, node ${meta.node}`);
  console.log(
    `KDF ${kdf.params}, one call at a time: hash median ${kdf.hashMedianMs.toFixed(1)} ms, verify median ${kdf.verifyMedianMs.toFixed(1)} ms ` +
      `(${KDF_SAMPLES} each); min(UV_THREADPOOL_SIZE ${THREADPOOL}, ${cpu.length} cores) ÷ verify time ≈ ${fmt(kdf.ceilingRps)} sign-ins/s at most.`,
  );
  console.log(
    `autocannon in a child process: ${AUTH_CONNECTIONS} connections for sign-ins (identities rotate over ${USERS} users), ${CONNECTIONS} for lists (tokens rotate over ${USERS} users); ` +
      `${WARMUP} s warm-up + ${DURATION} s per run, ${ROUNDS} round(s) per pair in alternating order (req/s: mean; latencies, loop delays: median of rounds). Loop delay: monitorEventLoopDelay of the server process (resolution ${ELD_RESOLUTION_MS} ms, shown minus it).`,
  );
  console.log(
    'A signed-in request first runs Tokens.resolve: decode the JWT, load the auth record (one SELECT by id), check the HS256 signature ' +
      "with tokenKey + the collection secret (cached); the posts listRule's `author = @request.auth.id` branch then carries the requester's id.",
  );
  const busiest = Math.max(0, ...reports.flatMap((r) => r.rows.map((row) => row.cpu?.other ?? 0)));
  if (busiest > 0.2) console.log(`**Warning:** other processes used up to ${busiest.toFixed(2)} of ${cpu.length} CPU cores during a run; these numbers are skewed (see \`cpu.other\` per run in the JSON).`);
  console.log('');
  for (const report of reports) console.log(markdown(report));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `auth-${meta.date.slice(0, 19).replace(/:/g, '-')}.json`);
  const round = (n: number | undefined, d = 2) => (n === undefined ? undefined : Math.round(n * 10 ** d) / 10 ** d);
  const json = {
    ...meta,
    kdf: { ...kdf, hashMedianMs: round(kdf.hashMedianMs), verifyMedianMs: round(kdf.verifyMedianMs), ceilingRps: round(kdf.ceilingRps, 1) },
    engines: reports.map((r) => ({
      ...r,
      signInRatio: round(r.signInRatio, 3),
      listRatio: round(r.listRatio, 3),
      rows: r.rows.map((row) => ({
        ...row,
        rps: round(row.rps, 1),
        rounds: row.rounds?.map((x) => ({ ...x, rps: round(x.rps, 1) })),
        loopDelay: row.loopDelay && { p50: round(row.loopDelay.p50, 3), p99: round(row.loopDelay.p99, 3), max: round(row.loopDelay.max, 3), mean: round(row.loopDelay.mean, 3) },
      })),
    })),
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`[bench] wrote ${relative(ROOT, file)}`);
  const failed = reports.flatMap((r) => r.rows).filter((r) => r.status !== 'ok');
  if (failed.length) {
    console.log(`[bench] ${failed.length} run(s) not valid: ${failed.map((r) => r.key).join(', ')}`);
    process.exitCode = 1;
  }
}

{
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n[bench] ${signal}: cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (err) {
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  } finally {
    await cleanupAll();
  }
}
