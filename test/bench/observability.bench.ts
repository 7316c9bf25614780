/**
 * OpenAPI, types, metrics and compression benchmark: `npm run bench:observability`.
 *
 * 1. Generation, in process, for the 200-collection schema of bench:migrate: the OpenAPI document
 *    and the TypeScript types (median of BENCH_RUNS, and the first, cold run), their sizes (raw,
 *    gzip, brotli), next to what every load already does with the same schema (building the
 *    records runtime) as the baseline.
 * 2. Throughput: the bench collections (authors, articles) seeded with 1,000 authors and 10,000
 *    articles; Galley started as a child process four times over the same database, with metrics
 *    and compression off (the baseline), metrics only, compression only, both (the default). Each
 *    is loaded with autocannon (Accept-Encoding: gzip, deflate, br) on GET one record and GET a
 *    30-row page, in rounds whose order alternates; req/s, p50/p99 and the server's CPU per request.
 * 3. Compression of one 30-row page (the real body): gzip (level 6) and brotli (quality 4), as
 *    the middleware runs them: bytes saved and CPU time per response.
 *
 * Environment: BENCH_DURATION (s per run, default 8), BENCH_WARMUP (s, default 2), BENCH_ROUNDS
 * (default 2), BENCH_CONNECTIONS (default 50), BENCH_RUNS (generation runs, default 7),
 * BENCH_ENGINES (sqlite,postgres; PostgreSQL skipped when unreachable), BENCH_PG (admin URL).
 * Needs `npm run build` (runs dist/main.js). Writes test/bench/results/observability-<date>.json.
 */
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import pg from 'pg';
import { buildOpenApiDocument } from '../../src/openapi/index.js';
import { buildRuntime } from '../../src/records/runtime.js';
import { buildSchema } from '../../src/schema/index.js';
import { generateTypes } from '../../src/types-gen/index.js';
import { freePort } from '../helpers/cli.js';
import { cpuSnapshot, cpuUse } from './cpu.js';
import { freshBenchDatabase, pgReachable } from './database.js';
import { schemaFiles } from './generated-schema.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const COLLECTIONS_DIR = join(ROOT, 'test/bench/collections');
const env = process.env;
const DURATION = Number(env['BENCH_DURATION'] ?? 8);
const WARMUP = Number(env['BENCH_WARMUP'] ?? 2);
const ROUNDS = Number(env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 50);
const RUNS = Number(env['BENCH_RUNS'] ?? 7);
const ENGINES = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim()) as ('sqlite' | 'postgres')[];
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const ACCEPT_ENCODING = 'gzip, deflate, br';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// 1. Generation

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

function generation() {
  const files = schemaFiles(200);
  const first = { document: timed(() => buildOpenApiDocument(buildSchema(files))).ms, types: timed(() => generateTypes(buildSchema(files))).ms };
  const runs = { load: [] as number[], runtime: [] as number[], document: [] as number[], types: [] as number[] };
  let doc = '';
  let types = '';
  for (let i = 0; i < RUNS; i++) {
    // A new Schema object each run: nothing is reused from the previous one (as after a reload).
    const load = timed(() => buildSchema(files));
    runs.load.push(load.ms);
    runs.runtime.push(timed(() => buildRuntime(load.value, 'sqlite')).ms);
    const d = timed(() => buildOpenApiDocument(load.value));
    runs.document.push(d.ms);
    doc = JSON.stringify(d.value);
    const t = timed(() => generateTypes(load.value));
    runs.types.push(t.ms);
    types = t.value;
  }
  const parsed = JSON.parse(doc) as { paths: object; components: { schemas: object } };
  return {
    collections: 200,
    runs: RUNS,
    medianMs: { loadCollections: round(median(runs.load)), recordsRuntime: round(median(runs.runtime)), openapiDocument: round(median(runs.document)), types: round(median(runs.types)) },
    firstRunMs: { openapiDocumentWithLoad: round(first.document), typesWithLoad: round(first.types) },
    document: {
      bytes: Buffer.byteLength(doc),
      gzipBytes: gzipSync(doc).length,
      brotliBytes: brotliCompressSync(doc, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).length,
      paths: Object.keys(parsed.paths).length,
      schemas: Object.keys(parsed.components.schemas).length,
      serializeMs: round(median(Array.from({ length: 5 }, () => timed(() => JSON.stringify(parsed)).ms))),
    },
    types: { bytes: Buffer.byteLength(types), lines: types.split('\n').length },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput

const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('GALLEY_') || k.startsWith('BENCH_') || k === 'DATABASE_URL') delete e[k];
  return { ...e, GALLEY_LOG_LEVEL: 'warn', GALLEY_LOG_PRETTY: 'false', ...extra };
}

interface Config {
  name: string;
  metrics: boolean;
  compression: boolean;
}
const CONFIGS: Config[] = [
  { name: 'both off (baseline)', metrics: false, compression: false },
  { name: 'metrics', metrics: true, compression: false },
  { name: 'compression', metrics: false, compression: true },
  { name: 'both on (default)', metrics: true, compression: true },
];

async function startGalley(config: Config, dbUrl: string, dataDir: string): Promise<{ base: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, 'serve', '--http', `127.0.0.1:${port}`, '--collections', COLLECTIONS_DIR, '--data', dataDir, '--db', dbUrl], {
    cwd: ROOT,
    env: childEnv({ GALLEY_METRICS: String(config.metrics), GALLEY_COMPRESSION: String(config.compression) }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`galley serve exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('galley serve did not answer within 120 s');
    const ok = await fetch(`${base}/api/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    child,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

function seedRows() {
  let n = 0;
  const id = (prefix: string) => `${prefix}${String(n++).padStart(14, '0')}`.slice(-15);
  const authors = Array.from({ length: 1000 }, (_, i) => ({ id: id('a'), name: `Author ${i}`, email: `author${i}@example.com`, created: '2024-01-01 00:00:00.000Z', updated: '2024-01-01 00:00:00.000Z' }));
  const articles = Array.from({ length: 10_000 }, (_, i) => {
    const created = new Date(Date.UTC(2024, 0, 2) + i * 60_000).toISOString().replace('T', ' ');
    return { id: id('r'), title: `Article ${i}: notes on ${i % 997} things`, status: i % 2 ? 'published' : 'draft', views: (i * 37) % 1000, author: authors[i % 1000]!.id, created, updated: created };
  });
  return { authors, articles };
}

async function seed(engine: 'sqlite' | 'postgres', dbUrl: string): Promise<string[]> {
  const { authors, articles } = seedRows();
  const tables: [string, Record<string, string | number>[]][] = [
    ['authors', authors],
    ['articles', articles],
  ];
  if (engine === 'sqlite') {
    const db = new Database(dbUrl.slice('sqlite:'.length));
    for (const [table, rows] of tables) {
      const cols = Object.keys(rows[0]!);
      const stmt = db.prepare(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      db.transaction(() => rows.forEach((r) => stmt.run(r)))();
    }
    db.close();
  } else {
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    for (const [table, rows] of tables) {
      const cols = Object.keys(rows[0]!);
      for (let i = 0; i < rows.length; i += 500) {
        const values: unknown[] = [];
        const tuples = rows.slice(i, i + 500).map((r) => `(${cols.map((c) => (values.push(r[c]), `$${values.length}`)).join(', ')})`);
        await client.query(`INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`, values);
      }
      await client.query(`VACUUM ANALYZE "${table}"`);
    }
    await client.end();
  }
  return articles.map((a) => a.id);
}

interface Run {
  config: string;
  endpoint: string;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU milliseconds per request. */
  cpuMsPerRequest: number | null;
  /** Cores used meanwhile by everything but the server and this bench (other work on the machine skews the run). */
  otherCores: number | null;
  bad: number;
}

async function measure(base: string, serverPid: number, path: () => string, seconds: number): Promise<Omit<Run, 'config' | 'endpoint' | 'round'>> {
  const before = cpuSnapshot([serverPid, process.pid]);
  const r = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'accept-encoding': ACCEPT_ENCODING },
    requests: [{ method: 'GET', path: path(), setupRequest: (req) => ({ ...req, path: path() }) }],
  });
  const after = cpuSnapshot([serverPid, process.pid]);
  const jiffies = before && after ? (after.procs.get(serverPid)?.[1] ?? 0) - (before.procs.get(serverPid)?.[1] ?? 0) : null;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    // /proc counts in clock ticks of 10 ms.
    cpuMsPerRequest: jiffies === null ? null : round((jiffies * 10) / Math.max(1, r.requests.total), 3),
    otherCores: before && after ? cpuUse(before, after).other : null,
    bad: r.non2xx + r.errors + r.timeouts,
  };
}

async function throughput(engine: 'sqlite' | 'postgres', work: string) {
  const dataDir = join(work, engine);
  mkdirSync(dataDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const dbUrl = await freshBenchDatabase(engine, { dataDir, adminUrl: PG_ADMIN, name: 'galley_bench_observability', keep: false, cleanups });
  try {
    execFileSync(process.execPath, [MAIN, 'migrate', '--collections', COLLECTIONS_DIR, '--data', dataDir, '--db', dbUrl], { cwd: ROOT, env: childEnv({}), stdio: 'ignore' });
    const ids = await seed(engine, dbUrl);
    const endpoints = [
      { name: 'GET one', path: () => `/api/collections/articles/records/${ids[Math.floor(Math.random() * ids.length)]}` },
      // No sort: the page comes in storage order, so the database's share stays small and the middleware's shows.
      { name: 'GET list (30 rows)', path: () => `/api/collections/articles/records?perPage=30&page=${1 + Math.floor(Math.random() * 300)}` },
    ];
    const runs: Run[] = [];
    let sampleBody = '';
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? CONFIGS : [...CONFIGS].reverse();
      for (const config of order) {
        const server = await startGalley(config, dbUrl, dataDir);
        try {
          if (!sampleBody) sampleBody = await (await fetch(`${server.base}/api/collections/articles/records?perPage=30`)).text();
          for (const endpoint of endpoints) {
            if (WARMUP > 0) await measure(server.base, server.child.pid!, endpoint.path, WARMUP);
            const m = await measure(server.base, server.child.pid!, endpoint.path, DURATION);
            runs.push({ config: config.name, endpoint: endpoint.name, round: r + 1, ...m });
            console.log(`[bench] ${engine} round ${r + 1} ${config.name} · ${endpoint.name}: ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, CPU ${m.cpuMsPerRequest} ms/req, other load ${m.otherCores} cores${m.bad ? `, ${m.bad} BAD` : ''}`);
          }
        } finally {
          await server.stop();
        }
      }
    }
    return { engine, runs, summary: summarize(runs), sampleBody };
  } finally {
    for (const c of cleanups) await c().catch(() => {});
  }
}

/**
 * Per config and endpoint: the median over rounds of req/s, and of the ratio to the baseline run
 * of the same round (runs next to each other in time: load from other work on the machine hits
 * both alike); the server's CPU per request, the machine's other load.
 */
function summarize(runs: Run[]) {
  const rows: Record<string, unknown>[] = [];
  for (const endpoint of [...new Set(runs.map((r) => r.endpoint))]) {
    const of = (config: string) => runs.filter((r) => r.endpoint === endpoint && r.config === config);
    const baseline = of(CONFIGS[0]!.name);
    for (const config of CONFIGS) {
      const rs = of(config.name);
      const ratios = rs.map((r) => r.rps / baseline.find((b) => b.round === r.round)!.rps);
      const cpu = rs.map((r) => r.cpuMsPerRequest).filter((x): x is number => x !== null);
      const other = rs.map((r) => r.otherCores).filter((x): x is number => x !== null);
      rows.push({
        endpoint,
        config: config.name,
        rps: Math.round(median(rs.map((r) => r.rps))),
        ratio: round(median(ratios), 3),
        roundRatios: ratios.map((x) => round(x, 2)),
        p50: round(median(rs.map((r) => r.p50))),
        p99: round(median(rs.map((r) => r.p99))),
        cpuMsPerRequest: cpu.length ? round(median(cpu), 3) : null,
        otherCores: other.length ? round(median(other), 2) : null,
        bad: rs.reduce((a, r) => a + r.bad, 0),
      });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// 3. Compressing one 30-row page

function compressionCost(body: string) {
  const iterations = 500;
  const time = (fn: () => Buffer) => {
    fn();
    const t0 = performance.now();
    let out: Buffer = Buffer.alloc(0);
    for (let i = 0; i < iterations; i++) out = fn();
    return { microsPerResponse: round(((performance.now() - t0) * 1000) / iterations, 1), bytes: out.length };
  };
  const raw = Buffer.byteLength(body);
  const gzip = time(() => gzipSync(body));
  const brotli = time(() => brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: raw } }));
  return {
    rawBytes: raw,
    gzip: { ...gzip, savedBytes: raw - gzip.bytes, ratio: round(gzip.bytes / raw, 3) },
    brotli: { ...brotli, savedBytes: raw - brotli.bytes, ratio: round(brotli.bytes / raw, 3) },
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log('[bench] npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  console.log(`[bench] generation: 200 collections, ${RUNS} runs`);
  const gen = generation();
  console.log(JSON.stringify(gen, null, 2));
  const work = mkdtempSync(join(tmpdir(), 'galley-bench-obs-'));
  const engines = [];
  try {
    for (const engine of ENGINES) {
      if (engine === 'postgres') {
        const why = await pgReachable(PG_ADMIN);
        if (why) {
          console.log(`[bench] postgres skipped: ${why}`);
          continue;
        }
      }
      engines.push(await throughput(engine, work));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const compression = engines[0] ? compressionCost(engines[0].sampleBody) : null;
  for (const e of engines) {
    console.log(`\n${e.engine}: req/s and ×baseline (medians of ${ROUNDS} rounds; per-round ratios), p50/p99 ms, server CPU ms/request, other load (cores)`);
    for (const row of e.summary) {
      console.log(`  ${String(row['endpoint']).padEnd(20)} ${String(row['config']).padEnd(20)} ${String(row['rps']).padStart(6)}  ×${row['ratio']} ${JSON.stringify(row['roundRatios'])}  ${row['p50']}/${row['p99']}  ${row['cpuMsPerRequest']}  ${row['otherCores']}${row['bad'] ? `  BAD ${row['bad']}` : ''}`);
    }
  }
  console.log('\ncompression of one 30-row page:', JSON.stringify(compression));
  const result = { date: new Date().toISOString(), node: process.version, duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, generation: gen, engines: engines.map(({ sampleBody: _b, ...e }) => e), compression };
  const dir = join(ROOT, 'test/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `observability-${result.date.slice(0, 19).replace(/:/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`[bench] wrote ${file}`);
}

await main();
