/**
 * Migration and start-up benchmark: `npm run bench:migrate` (needs `npm run build` first).
 *
 * Per engine (SQLite always; PostgreSQL when GALLEY_TEST_PG or BENCH_PG holds a URL) it generates
 * a 200-collection schema and measures:
 *   (a) plan + apply on an empty database, in process;
 *   (b) a no-op start of `node dist/main.js serve` with those collections: spawn → listening log
 *       line and spawn → first 200 from /api/health (median of BENCH_RUNS, default 5);
 *   (c) CPU time the server process used up to its first answer (utime + stime from /proc/<pid>/stat;
 *       steadier than wall time on a busy machine);
 *   (d) idle RSS after boot (VmRSS from /proc/<pid>/status, 250 ms after /api/health answered), and
 *       again after a first records list (`GET /api/collections/c001/records?sort=-created`).
 * Baseline in the same run: a bare Express hello-world started with `node -e`.
 * Prints a table, then one JSON object.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pgAdmin } from './database.js';
import { name, writeSchema } from './generated-schema.js';
import { connectDatabase, migrate, type DialectName } from '../../src/db/index.js';
import { loadCollections } from '../../src/schema/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const COLLECTIONS = Number(process.env['BENCH_COLLECTIONS'] ?? 200);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const PG_URL = process.env['BENCH_PG'] || process.env['GALLEY_TEST_PG'] || '';

interface StartSample {
  listenMs: number;
  healthMs: number;
  /** CPU time of the server process until its first answer. */
  cpuMs: number;
  rssMb: number;
  /** After a first list request (NaN for the baseline, which has no records API). */
  rssAfterListMb: number;
}

interface EngineResult {
  engine: DialectName;
  collections: number;
  tables: number;
  steps: number;
  loadMs: number;
  planMs: number;
  planApplyMs: number;
  startListenMedianMs: number;
  startHealthMedianMs: number;
  startCpuMedianMs: number;
  idleRssMedianMb: number;
  rssAfterListMedianMb: number;
  samples: StartSample[];
}

// ---------------------------------------------------------------------------------------------
// Processes

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

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const CLOCK_TICKS = 100;

function cpuMs(pid: number): number {
  // After "(comm)" the fields are space-separated; utime and stime are fields 14 and 15 (1-based).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Spawns a server, returns ms to the line matching `listening` on stdout and to the first OK from
 * `healthUrl`, its CPU time until then, the idle RSS, and the RSS after one GET of `listUrl`.
 */
async function measureStart(cmd: string, args: string[], env: NodeJS.ProcessEnv, listening: RegExp, healthUrl: string, listUrl?: string): Promise<StartSample> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let listenMs = NaN;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (Number.isNaN(listenMs) && listening.test(output)) listenMs = performance.now() - t0;
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  try {
    const deadline = t0 + 120_000;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`server exited with ${exitCode} before answering:\n${output.slice(-2000)}`);
      if (performance.now() > deadline) throw new Error(`server did not answer within 120 s:\n${output.slice(-2000)}`);
      if (await healthy(healthUrl)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const healthMs = performance.now() - t0;
    const cpu = cpuMs(child.pid!);
    await new Promise((r) => setTimeout(r, 250)); // let start-up garbage settle a moment before reading RSS
    const rss = rssMb(child.pid!);
    let rssAfterListMb = NaN;
    if (listUrl) {
      const res = await fetch(listUrl);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${listUrl} answered ${res.status}`);
      await new Promise((r) => setTimeout(r, 250));
      rssAfterListMb = rssMb(child.pid!);
    }
    return { listenMs, healthMs, cpuMs: cpu, rssMb: rss, rssAfterListMb };
  } finally {
    await stop(child, exited);
  }
}

async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// Runs

const HELLO = `const express = require('express'); const app = express();
app.get('/api/health', (_q, r) => r.json({ message: 'ok' }));
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));`;

async function baseline(): Promise<ReturnType<typeof summarize>> {
  const samples: StartSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    samples.push(await measureStart(process.execPath, ['-e', HELLO], { ...process.env, PORT: String(port) }, /listening/, `http://127.0.0.1:${port}/api/health`));
  }
  return summarize(samples);
}

function summarize(samples: StartSample[]) {
  return {
    startListenMedianMs: median(samples.map((s) => s.listenMs)),
    startHealthMedianMs: median(samples.map((s) => s.healthMs)),
    startCpuMedianMs: median(samples.map((s) => s.cpuMs)),
    idleRssMedianMb: median(samples.map((s) => s.rssMb)),
    rssAfterListMedianMb: median(samples.map((s) => s.rssAfterListMb)),
    samples,
  };
}

async function benchEngine(engine: DialectName, dbUrl: string, collectionsDir: string, dataDir: string): Promise<EngineResult> {
  let t = performance.now();
  const schema = await loadCollections(collectionsDir);
  const loadMs = performance.now() - t;
  const db = connectDatabase(dbUrl);
  let planMs: number;
  let planApplyMs: number;
  let steps: number;
  try {
    t = performance.now();
    await migrate(db, schema, { apply: false, allowDestructive: false });
    planMs = performance.now() - t;
    t = performance.now();
    const result = await migrate(db, schema, { apply: true, allowDestructive: false });
    planApplyMs = performance.now() - t;
    steps = result.plan.steps.length;
  } finally {
    await db.close();
  }
  const samples: StartSample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const args = [MAIN, 'serve', '--http', `127.0.0.1:${port}`, '--collections', collectionsDir, '--data', dataDir, '--db', dbUrl];
    const env = { ...process.env, GALLEY_LOG_PRETTY: 'false', GALLEY_LOG_LEVEL: 'info' };
    const base = `http://127.0.0.1:${port}`;
    samples.push(await measureStart(process.execPath, args, env, /Galley listening on/, `${base}/api/health`, `${base}/api/collections/${name(1)}/records?sort=-created`));
  }
  const tables = schema.collections.length;
  return { engine, collections: COLLECTIONS, tables, steps, loadMs, planMs, planApplyMs, ...summarize(samples) };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.error(`dist/main.js is missing: run \`npm run build\` first, then \`npm run bench:migrate\`.`);
    process.exitCode = 2;
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'galley-bench-'));
  const collectionsDir = join(work, 'collections');
  writeSchema(collectionsDir, COLLECTIONS);
  console.log(`[bench] ${COLLECTIONS} collections in ${collectionsDir}; ${RUNS} start runs each; node ${process.version}`);
  const results: EngineResult[] = [];
  try {
    console.log('[bench] baseline: express hello-world via node -e');
    const base = await baseline();
    console.log('[bench] sqlite');
    results.push(await benchEngine('sqlite', `sqlite:${join(work, 'sqlite', 'data.db')}`, collectionsDir, join(work, 'sqlite')));
    if (PG_URL) {
      const dbName = `galley_bench_${process.pid}_${Date.now().toString(36)}`;
      const url = new URL(PG_URL);
      url.pathname = `/${dbName}`;
      console.log(`[bench] postgres (database ${dbName}, dropped afterwards)`);
      await pgAdmin(PG_URL, `CREATE DATABASE "${dbName}"`);
      try {
        results.push(await benchEngine('postgres', url.toString(), collectionsDir, join(work, 'pg')));
      } finally {
        await pgAdmin(PG_URL, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      }
    } else {
      console.log('[bench] postgres skipped: set GALLEY_TEST_PG or BENCH_PG to a PostgreSQL URL');
    }
    report(base, results);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(base: Awaited<ReturnType<typeof baseline>>, results: EngineResult[]): void {
  const rows = [
    ['engine', 'steps', 'load ms', 'plan ms', 'plan+apply ms', 'start→listen ms', 'start→health ms', 'CPU to health ms', 'idle RSS MB', 'RSS after list MB', 'health ×base', 'CPU ×base', 'RSS ×base'],
    ['baseline (express)', '', '', '', '', fmt(base.startListenMedianMs), fmt(base.startHealthMedianMs), fmt(base.startCpuMedianMs), fmt(base.idleRssMedianMb, 1), '', '1.0', '1.0', '1.0'],
    ...results.map((r) => [
      r.engine,
      String(r.steps),
      fmt(r.loadMs),
      fmt(r.planMs),
      fmt(r.planApplyMs),
      fmt(r.startListenMedianMs),
      fmt(r.startHealthMedianMs),
      fmt(r.startCpuMedianMs),
      fmt(r.idleRssMedianMb, 1),
      fmt(r.rssAfterListMedianMb, 1),
      fmt(r.startHealthMedianMs / base.startHealthMedianMs, 1),
      fmt(r.startCpuMedianMs / base.startCpuMedianMs, 1),
      fmt(r.idleRssMedianMb / base.idleRssMedianMb, 1),
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  console.log('');
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  console.log('');
  const round = (n: number) => Math.round(n * 10) / 10;
  const json = {
    collections: COLLECTIONS,
    runs: RUNS,
    node: process.version,
    baseline: {
      startListenMedianMs: round(base.startListenMedianMs),
      startHealthMedianMs: round(base.startHealthMedianMs),
      startCpuMedianMs: round(base.startCpuMedianMs),
      idleRssMedianMb: round(base.idleRssMedianMb),
    },
    engines: results.map((r) => ({
      engine: r.engine,
      tables: r.tables,
      steps: r.steps,
      loadMs: round(r.loadMs),
      planMs: round(r.planMs),
      planApplyMs: round(r.planApplyMs),
      startListenMedianMs: round(r.startListenMedianMs),
      startHealthMedianMs: round(r.startHealthMedianMs),
      startCpuMedianMs: round(r.startCpuMedianMs),
      idleRssMedianMb: round(r.idleRssMedianMb),
      rssAfterListMedianMb: round(r.rssAfterListMedianMb),
      startHealthRatio: round(r.startHealthMedianMs / base.startHealthMedianMs),
      startCpuRatio: round(r.startCpuMedianMs / base.startCpuMedianMs),
      idleRssRatio: round(r.idleRssMedianMb / base.idleRssMedianMb),
      samples: r.samples.map((s) => ({ listenMs: round(s.listenMs), healthMs: round(s.healthMs), cpuMs: round(s.cpuMs), rssMb: round(s.rssMb), rssAfterListMb: round(s.rssAfterListMb) })),
    })),
  };
  console.log(JSON.stringify(json, null, 2));
}

await main();
