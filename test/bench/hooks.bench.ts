/**
 * Hooks benchmark: `npx tsx test/bench/hooks.bench.ts` (npm run bench:hooks).
 *
 * Per engine (SQLite; PostgreSQL when it answers) it starts Galley in this process through the real
 * serve path (createApp → migrateForServe → startServer) on a folder with two identical collections,
 * `plain` and `hooked`, and a hooks file that gives `hooked` one no-op before-hook and one no-op
 * after-hook and adds a custom route. autocannon runs in a forked child (test/bench/load.ts), so the
 * servers have this event loop to themselves. Rounds alternate the order of each pair.
 *
 *   1. POST create on `hooked` ÷ POST create on `plain` (target ≥ 0.95)
 *   2. GET /api/ping (routerAdd, e.json) ÷ the same route hand-written on a bare express 5 app in this
 *      process (target ≥ 0.9); also ÷ that route behind Galley's own request middleware (request id
 *      and log line, metrics, compression, security headers), which every Galley route pays, so the
 *      cost of routerAdd itself is visible apart from the product's per-request features
 *
 * Prints req/s, p50/p99 and CPU per request (this process's user+system time ÷ requests), and writes
 * test/bench/results/hooks-<date>.json.
 *
 * Environment: BENCH_DURATION (s, default 8), BENCH_WARMUP (s, default 2), BENCH_CONNECTIONS (default 50),
 * BENCH_ROUNDS (default 2), BENCH_ENGINES (sqlite,postgres), BENCH_PG (admin URL).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import { createApp, migrateForServe, startServer, type RunningServer } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/index.js';
import { compressResponses } from '../../src/http/compression.js';
import { requestMetrics } from '../../src/http/metrics.js';
import { requestLogger } from '../../src/http/request-id.js';
import { securityHeaders } from '../../src/http/security-headers.js';
import { createMetrics } from '../../src/metrics/index.js';
import { cpuSnapshot, cpuUse } from './cpu.js';
import { freshBenchDatabase, pgReachable } from './database.js';
import { startLoadWorker, type LoadSummary, type LoadWorker } from './load.js';

const env = process.env;
const DURATION = Number(env['BENCH_DURATION'] ?? 8);
const WARMUP = Number(env['BENCH_WARMUP'] ?? 2);
const CONNECTIONS = Number(env['BENCH_CONNECTIONS'] ?? 50);
const ROUNDS = Math.max(1, Number(env['BENCH_ROUNDS'] ?? 2));
const ENGINES = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',').map((s) => s.trim());
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const RESULTS = resolve(import.meta.dirname, 'results');

const NOTE = (name: string) => ({ name, type: 'base', listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '', fields: [{ name: 'text', type: 'text' }, { name: 'n', type: 'number' }] });
const HOOKS = `export default (app) => {
  app.onRecordCreate('hooked', async (e) => { await e.next(); });
  app.onRecordAfterCreate('hooked', () => {});
  app.routerAdd('GET', '/api/ping', (e) => e.json(200, { ok: true }));
};\n`;

interface Row extends LoadSummary {
  label: string;
  cpuMsPerRequest: number;
  otherCores: number | null;
}

async function measure(worker: LoadWorker, label: string, url: string, method: 'GET' | 'POST', path: string): Promise<Row> {
  const bodies = method === 'POST' ? Array.from({ length: 100 }, (_, i) => JSON.stringify({ text: `note ${i}`, n: i })) : undefined;
  if (WARMUP > 0) await worker.run({ url, method, path, connections: CONNECTIONS, duration: WARMUP, ...(bodies ? { bodies } : {}) });
  const cpu0 = process.cpuUsage();
  const snap0 = cpuSnapshot([process.pid, worker.child.pid ?? 0]);
  const r = await worker.run({ url, method, path, connections: CONNECTIONS, duration: DURATION, ...(bodies ? { bodies } : {}) });
  const cpu = process.cpuUsage(cpu0);
  const snap1 = cpuSnapshot([process.pid, worker.child.pid ?? 0]);
  const use = snap0 && snap1 ? cpuUse(snap0, snap1) : null;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${label}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statusCodes)})`);
  return { ...r, label, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, r.requests), otherCores: use ? use.other : null };
}

/** Mean req/s, median latencies and CPU of several rounds of one run. */
function combine(rows: Row[]): Row {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { ...rows[0]!, rps: rows.reduce((s, r) => s + r.rps, 0) / rows.length, p50: mid(rows.map((r) => r.p50)), p99: mid(rows.map((r) => r.p99)), cpuMsPerRequest: mid(rows.map((r) => r.cpuMsPerRequest)) };
}

async function benchEngine(engine: 'sqlite' | 'postgres', worker: LoadWorker): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-bench-hooks-'));
  mkdirSync(join(dir, 'collections'));
  writeFileSync(join(dir, 'collections/plain.json'), JSON.stringify(NOTE('plain')));
  writeFileSync(join(dir, 'collections/hooked.json'), JSON.stringify(NOTE('hooked')));
  writeFileSync(join(dir, 'collections/hooked.hooks.mjs'), HOOKS);
  const cleanups: (() => Promise<void>)[] = [];
  const db = await freshBenchDatabase(engine, { dataDir: join(dir, 'data'), adminUrl: PG_ADMIN, name: 'galley_bench_hooks', keep: false, cleanups });
  const config = loadConfig({ collections: join(dir, 'collections'), data: join(dir, 'data'), http: '127.0.0.1:0', db }, { ...env, GALLEY_LOG_LEVEL: 'warn', GALLEY_RATE_LIMIT_AUTH_IP: '0', GALLEY_MAX_IN_FLIGHT: '0' });
  const app = await createApp(config, createLogger(config));
  let running: RunningServer | null = null;
  let baseline: Server | null = null;
  try {
    await migrateForServe(app);
    running = await startServer(app);
    const bare = express();
    bare.get('/ping', (_req, res) => void res.json({ ok: true }));
    // The same route behind the middleware every Galley request passes (as createHttpApp mounts it).
    const dressed = express.Router();
    dressed.use(requestLogger(app.log), requestMetrics(createMetrics({ defaultMetrics: false }).http), compressResponses(), securityHeaders);
    dressed.get('/dressed/ping', (_req, res) => void res.json({ ok: true }));
    bare.use(dressed);
    baseline = createServer(bare);
    await new Promise<void>((done) => baseline!.listen(0, '127.0.0.1', () => done()));
    const address = baseline.address();
    const bareUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const runs: Record<string, Row[]> = { plain: [], hooked: [], route: [], express: [], dressed: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const pair = async (a: () => Promise<void>, b: () => Promise<void>) => (round % 2 === 0 ? (await a(), await b()) : (await b(), await a()));
      await pair(
        async () => void runs['plain']!.push(await measure(worker, 'POST create · no hooks', running!.url, 'POST', '/api/collections/plain/records')),
        async () => void runs['hooked']!.push(await measure(worker, 'POST create · before + after hook', running!.url, 'POST', '/api/collections/hooked/records')),
      );
      await pair(
        async () => void runs['route']!.push(await measure(worker, 'GET /api/ping · routerAdd', running!.url, 'GET', '/api/ping')),
        async () => void runs['express']!.push(await measure(worker, 'GET /ping · bare express', bareUrl, 'GET', '/ping')),
      );
      runs['dressed']!.push(await measure(worker, "GET /dressed/ping · express + Galley's middleware", bareUrl, 'GET', '/dressed/ping'));
    }
    return [combine(runs['plain']!), combine(runs['hooked']!), combine(runs['route']!), combine(runs['express']!), combine(runs['dressed']!)];
  } finally {
    await running?.close();
    if (!running) await app.db.close();
    await new Promise<void>((done) => (baseline ? baseline.close(() => done()) : done()));
    for (const cleanup of cleanups) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(engine: string, rows: Row[]): string {
  const [plain, hooked, route, bare, dressed] = rows as [Row, Row, Row, Row, Row];
  const line = (r: Row, ratio: string) => `| ${r.label} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50} | ${r.p99} | ${r.cpuMsPerRequest.toFixed(3)} | ${ratio} |`;
  return [
    `### ${engine}`,
    '',
    '| run | req/s | p50 ms | p99 ms | CPU ms/req | ratio |',
    '|---|---:|---:|---:|---:|---:|',
    line(plain, '1.00× (ref)'),
    line(hooked, `${(hooked.rps / plain.rps).toFixed(2)}× no hooks (target ≥ 0.95)`),
    line(bare, '1.00× (ref)'),
    line(dressed, `${(dressed.rps / bare.rps).toFixed(2)}× express`),
    line(route, `${(route.rps / bare.rps).toFixed(2)}× express (target ≥ 0.9); ${(route.rps / dressed.rps).toFixed(2)}× express + Galley's middleware`),
    '',
  ].join('\n');
}

const worker = startLoadWorker();
try {
  const report: Record<string, Row[]> = {};
  for (const engine of ENGINES as ('sqlite' | 'postgres')[]) {
    if (engine === 'postgres' && (await pgReachable(PG_ADMIN)) !== null) {
      console.log('[bench] PostgreSQL is not reachable: skipped');
      continue;
    }
    report[engine] = await benchEngine(engine, worker);
    console.log(table(engine === 'sqlite' ? 'SQLite' : 'PostgreSQL', report[engine]!));
  }
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `hooks-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`);
  writeFileSync(file, JSON.stringify({ duration: DURATION, connections: CONNECTIONS, rounds: ROUNDS, report }, null, 2));
  console.log(`[bench] wrote ${file}`);
} catch (err) {
  console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await worker.stop();
}
