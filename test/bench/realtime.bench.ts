/**
 * Realtime benchmark: `npm run bench:realtime`.
 *
 * Galley runs as child processes (`serve` through tsx, the example app) on SQLite, and on one
 * PostgreSQL database with two nodes. The bench process holds the SSE clients (raw HTTP, one
 * socket each) and measures:
 *
 * 1. Fan-out on one node: 1, 100, 1,000 (BENCH_FANOUT) subscribers of `tags/*` (empty listRule: no
 *    query), of `posts/*` as guests (one shared rule: one query per event) and, up to 100, of
 *    `posts/*` each with its own user (per-user rule: one query with a column per user), one write
 *    every 10 ms for BENCH_WRITES writes: events/s delivered, latency from the write's response to
 *    each receipt (p50/p99/max), and the server's CPU per event.
 * 2. Across nodes (PostgreSQL): subscribers on node A, writes on node B; the same figures.
 * 3. Memory: the server's RSS before and after 1,000 idle connections.
 * 4. Write throughput (POST create, BENCH_CONCURRENCY at once for BENCH_SECONDS) with 1,000
 *    subscribers connected versus none: the ratio.
 *
 * The bench process parses every message of every client, so at 1,000 subscribers its own CPU
 * is part of the latency measured (it shares the machine with the server).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startServe, type ServeHandle } from '../helpers/cli.js';
import { freshBenchDatabase, pgReachable } from './database.js';

const env = process.env;
const FANOUT = (env['BENCH_FANOUT'] ?? '1,100,1000').split(',').map(Number);
const WRITES = Number(env['BENCH_WRITES'] ?? 100);
const SECONDS = Number(env['BENCH_SECONDS'] ?? 5);
const CONCURRENCY = Number(env['BENCH_CONCURRENCY'] ?? 10);
const PG_ADMIN = env['BENCH_PG'] || env['GALLEY_TEST_PG'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const COLLECTIONS = resolve(import.meta.dirname, '../../collections');
const agent = new Agent({ keepAlive: true, maxSockets: 10_000 });

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]! : NaN);
const r1 = (n: number) => Math.round(n * 10) / 10;
let seq = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api(url: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, { method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A minimal SSE client: calls `onEvent(event, data)`; resolves with its client id once connected. */
function connect(url: string, onEvent: (event: string, data: string) => void): Promise<{ id: string; close(): void }> {
  return new Promise((resolveConnect, reject) => {
    const req = request(`${url}/api/realtime`, { agent }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const msg = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const id = /^id:(.*)$/m.exec(msg)?.[1] ?? '';
          const event = /^event:(.*)$/m.exec(msg)?.[1] ?? '';
          const data = /^data:(.*)$/m.exec(msg)?.[1] ?? '';
          if (event === 'PB_CONNECT') resolveConnect({ id, close: () => req.destroy() });
          else onEvent(event, data);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

interface Subscriber {
  close(): void;
}

/** `n` subscribers of `topic` on `url`, with tokens[i] as their auth (or guests). */
async function subscribe(url: string, n: number, topic: string, onEvent: (data: string) => void, tokens: (string | undefined)[] = []): Promise<Subscriber[]> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(url, (event, data) => event === topic && onEvent(data));
    const res = await api(url, 'POST', '/api/realtime', { clientId: c.id, subscriptions: [topic] }, tokens[i]);
    if (res.status !== 204) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.json)}`);
    subs.push(c);
  }
  return subs;
}

/** One write every 10 ms on `writeUrl`; latency from each write's response to each receipt of its event. */
async function fanOut(label: string, server: ServeHandle, subUrl: string, writeUrl: string, n: number, kind: 'tags' | 'posts', token: string, userTokens: string[] = [], authorId = '') {
  const responded = new Map<string, number>();
  const latencies: number[] = [];
  const early: string[] = [];
  let received = 0;
  const onEvent = (data: string) => {
    const key = /"(?:name|title)":"(bench-[^"]+)"/.exec(data)?.[1];
    if (!key) return;
    received++;
    const at = responded.get(key);
    if (at === undefined) early.push(key);
    else latencies.push(performance.now() - at);
  };
  const subs = await subscribe(subUrl, n, `${kind}/*`, onEvent, userTokens);
  await sleep(500); // forwarded subscriptions settle
  const cpu0 = cpuTicks(server.child.pid!);
  const t0 = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < WRITES; i++) {
    const key = `bench-${(++seq).toString(36)}-${i}`;
    const body = kind === 'tags' ? { name: key } : { title: key, author: authorId, status: 'published', body: '<p>x</p>' };
    writes.push(
      api(writeUrl, 'POST', `/api/collections/${kind}/records`, body, token).then((res) => {
        if (res.status !== 200) throw new Error(`write: ${res.status} ${JSON.stringify(res.json)}`);
        responded.set(key, performance.now());
      }),
    );
    await sleep(10);
  }
  await Promise.all(writes);
  const expected = WRITES * n;
  const deadline = performance.now() + 30_000;
  while (received < expected && performance.now() < deadline) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  for (let i = 0; i < early.length; i++) latencies.push(0); // arrived before the write's response
  const cpuMs = (cpuTicks(server.child.pid!) - cpu0) * 10;
  for (const s of subs) s.close();
  const row = { case: label, subscribers: n, delivered: `${received}/${expected}`, eventsPerSec: Math.round(received / seconds), p50ms: r1(pct(latencies, 50)), p99ms: r1(pct(latencies, 99)), maxms: r1(Math.max(...latencies)), serverCpuMsPerWrite: r1(cpuMs / WRITES) };
  console.log(JSON.stringify(row));
  await sleep(300);
  return row;
}

async function throughput(url: string, token: string): Promise<number> {
  let done = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        const res = await api(url, 'POST', '/api/collections/tags/records', { name: `tp-${w}-${i}-${Math.random().toString(36).slice(2, 10)}` }, token);
        if (res.status === 200) done++;
      }
    }),
  );
  return done / SECONDS;
}

async function signUp(url: string, email: string): Promise<{ token: string; id: string }> {
  await api(url, 'POST', '/api/collections/users/records', { email, password: 'password123', passwordConfirm: 'password123' });
  const res = await api(url, 'POST', '/api/collections/users/auth-with-password', { identity: email, password: 'password123' });
  return { token: String(res.json['token']), id: String((res.json['record'] as { id: string }).id) };
}

async function run(engine: 'sqlite' | 'postgres'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'galley-rt-bench-'));
  const cleanups: (() => Promise<void>)[] = [];
  const dbUrl = await freshBenchDatabase(engine, { dataDir: dir, adminUrl: PG_ADMIN, name: 'galley_bench_realtime', keep: false, cleanups });
  const envs = { DATABASE_URL: dbUrl, GALLEY_COLLECTIONS: COLLECTIONS, GALLEY_DATA: dir, GALLEY_RATE_LIMIT_AUTH_IP: '0', GALLEY_RATE_LIMIT_AUTH_IDENTITY: '0', GALLEY_MAX_IN_FLIGHT: '0', GALLEY_LOG_LEVEL: 'info' };
  const nodes = [await startServe({ cwd: dir, env: envs, timeoutMs: 120_000 })];
  if (engine === 'postgres') nodes.push(await startServe({ cwd: dir, env: envs, timeoutMs: 120_000 }));
  const [a] = nodes as [ServeHandle, ServeHandle?];
  try {
    console.log(`\n== ${engine}`);
    const writer = await signUp(a.url, 'writer@example.com');
    for (const n of FANOUT) await fanOut(`${engine} tags/* (no rule query)`, a, a.url, a.url, n, 'tags', writer.token);
    for (const n of FANOUT) await fanOut(`${engine} posts/* guests (one shared rule)`, a, a.url, a.url, n, 'posts', writer.token, [], writer.id);
    const users: string[] = [];
    for (let i = 0; i < Math.min(100, Math.max(...FANOUT)); i++) users.push((await signUp(a.url, `reader${i}@example.com`)).token);
    await fanOut(`${engine} posts/* per-user rules`, a, a.url, a.url, users.length, 'posts', writer.token, users, writer.id);
    if (nodes[1]) for (const n of FANOUT) await fanOut(`${engine} tags/* subscribers on A, writes on B`, a, a.url, nodes[1].url, n, 'tags', writer.token);

    const rss0 = rssMb(a.child.pid!);
    const idle = await subscribe(a.url, 1000, 'tags/*', () => {});
    await sleep(1000);
    const rss1 = rssMb(a.child.pid!);
    console.log(JSON.stringify({ case: `${engine} memory`, rssBeforeMb: r1(rss0), rssWith1000IdleMb: r1(rss1), mbPer1000Idle: r1(rss1 - rss0) }));
    const withSubs = await throughput(a.url, writer.token);
    for (const s of idle) s.close();
    await sleep(1000);
    const without = await throughput(a.url, writer.token);
    console.log(JSON.stringify({ case: `${engine} write throughput`, createsPerSecNoSubscribers: Math.round(without), createsPerSecWith1000: Math.round(withSubs), ratio: Math.round((withSubs / without) * 100) / 100 }));
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const cleanup of cleanups) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const engines = (env['BENCH_ENGINES'] ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
for (const engine of engines) {
  if (engine === 'postgres') {
    const why = await pgReachable(PG_ADMIN);
    if (why) {
      console.log(`postgres skipped: ${why}`);
      continue;
    }
  }
  await run(engine);
}
agent.destroy();
