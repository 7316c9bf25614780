import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors/index.js';
import type { Row } from './executor.js';

/**
 * A worker thread's side: its own connection to the same SQLite file (WAL lets it read while the
 * main connection writes), read-only by pragma, with a bounded statement cache. Plain JavaScript
 * evaluated in the worker, so it runs the same under tsx, vitest and the built dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 30000');
db.pragma('query_only = ON');
const statements = new Map();
parentPort.on('message', ({ id, text, values }) => {
  try {
    let stmt = statements.get(text);
    if (!stmt) {
      stmt = db.prepare(text);
      if (statements.size >= 500) statements.delete(statements.keys().next().value);
      statements.set(text, stmt);
    }
    parentPort.postMessage({ id, rows: stmt.all(...values) });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

interface Job {
  id: number;
  text: string;
  values: readonly unknown[];
  resolve(rows: Row[]): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | null;
}

interface Reader {
  worker: Worker;
  job: Job | null;
}

/**
 * Reads that may be expensive (list pages, counts, expands) run on a few worker threads with
 * connections of their own, so the event loop — health checks, single-record reads, writes —
 * never waits for a long scan. A read past `timeoutMs` (queue wait included) is answered with a
 * 503 at once; its worker is terminated (V8 stops it as soon as SQLite hands control back) and
 * replaced, so one slow query cannot hold a reader forever.
 */
export class SqliteReaders {
  private readonly readers: Reader[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly driver = createRequire(import.meta.url).resolve('better-sqlite3');

  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {}

  all(text: string, values: readonly unknown[]): Promise<Row[]> {
    if (this.closed) return Promise.reject(new Error('the SQLite readers are closed'));
    // Started on the first read: commands that never list (migrate, superuser) start no threads.
    while (this.readers.length < this.size) this.readers.push(this.spawn());
    return new Promise<Row[]>((resolve, reject) => {
      const job: Job = { id: ++this.nextId, text, values, resolve, reject, timer: null };
      if (this.timeoutMs > 0) job.timer = setTimeout(() => this.expire(job), this.timeoutMs);
      this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error('the SQLite readers were closed'));
    await Promise.all(this.readers.map((r) => r.worker.terminate()));
  }

  private spawn(): Reader {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: this.driver, file: this.file } });
    const reader: Reader = { worker, job: null };
    worker.on('message', (msg: { id: number; rows?: Row[]; error?: { message: string; code?: string } }) => {
      const job = reader.job;
      reader.job = null;
      if (job && job.id === msg.id) this.settle(job, msg.error ? Object.assign(new Error(msg.error.message), { code: msg.error.code }) : null, msg.rows);
      this.dispatch();
    });
    worker.on('error', (err) => this.replace(reader, err));
    worker.unref();
    return reader;
  }

  private dispatch(): void {
    for (const reader of this.readers) {
      if (reader.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      reader.job = job;
      reader.worker.postMessage({ id: job.id, text: job.text, values: job.values });
    }
  }

  /** The deadline passed: a queued job is dropped, a running one loses its worker. */
  private expire(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.settle(job, new AppError('query_timeout'));
    const running = this.readers.find((r) => r.job === job);
    if (running) {
      running.job = null;
      this.replace(running, null);
    }
  }

  private replace(reader: Reader, err: unknown): void {
    const index = this.readers.indexOf(reader);
    if (index < 0) return;
    void reader.worker.terminate();
    if (reader.job) this.settle(reader.job, err ?? new Error('the SQLite reader stopped'));
    reader.job = null;
    if (this.closed) return;
    this.readers[index] = this.spawn();
    this.dispatch();
  }

  private settle(job: Job, err: unknown, rows?: Row[]): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = null;
    if (err) job.reject(err);
    else job.resolve(rows ?? []);
  }
}
