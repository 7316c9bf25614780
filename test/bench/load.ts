/**
 * The benchmarks' load generator: this module, forked, runs autocannon so that the servers under
 * test have the bench process's event loop to themselves. One job at a time over IPC.
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TSX_LOADER = pathToFileURL(join(resolve(import.meta.dirname, '../..'), 'node_modules/tsx/dist/loader.mjs')).href;

export interface LoadJob {
  id: number;
  url: string;
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  connections: number;
  duration: number;
  /** Request paths used in turn, one per request (instead of `path`). */
  paths?: string[];
  /**
   * Optimistic concurrency: the current ETag of each of `paths`. Every request sends its path's
   * ETag as If-Match and takes the response's ETag as the next one; a path is never in flight on two
   * connections at once (the next free one is taken), so no request races another on the same record.
   */
  etags?: Record<string, string>;
  /** Request bodies (JSON) used in turn, one per request. */
  bodies?: string[];
  /** Authorization headers used in turn, one per request. */
  authorizations?: string[];
}

export interface LoadSummary {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
}

type LoadReply = { id: number; result: LoadSummary } | { id: number; error: string };

async function runLoad(job: LoadJob): Promise<LoadSummary> {
  let n = 0;
  let cursor = 0;
  const headers: Record<string, string> = job.bodies ? { 'content-type': 'application/json' } : {};
  const etags = job.etags ? new Map(Object.entries(job.etags)) : null;
  const busy = new Set<string>();
  const paths = job.paths ?? [job.path];
  if (etags && paths.length <= job.connections) throw new Error(`etags: need more paths (${paths.length}) than connections (${job.connections})`);
  const untracked = etags ? paths.find((p) => !etags.has(p)) : undefined;
  if (untracked) throw new Error(`etags: no ETag for ${untracked}`);
  /** The next path not in flight (only with etags: each path's requests are then one after another). */
  const nextPath = (): string => {
    for (;;) {
      const path = paths[cursor++ % paths.length]!;
      if (!etags || !busy.has(path)) return path;
    }
  };
  const r = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.duration,
    timeout: 20,
    headers,
    requests: [
      {
        method: job.method,
        path: job.path,
        setupRequest: (request, context) => {
          const i = n++;
          const path = nextPath();
          const next = { ...request, method: job.method, path };
          if (job.bodies) next.body = job.bodies[i % job.bodies.length]!;
          if (job.authorizations || etags) next.headers = { ...headers, ...request.headers };
          if (job.authorizations) next.headers!['authorization'] = job.authorizations[i % job.authorizations.length]!;
          if (etags) {
            busy.add(path);
            (context as { path?: string }).path = path;
            next.headers!['if-match'] = etags.get(path)!;
          }
          return next;
        },
        ...(etags
          ? {
              onResponse: (_status: number, _body: string, context: object, resHeaders: Record<string, string | string[] | undefined> | undefined) => {
                const path = (context as { path?: string }).path;
                if (!path) return;
                busy.delete(path);
                for (const [name, value] of Object.entries(resHeaders ?? {})) if (name.toLowerCase() === 'etag') if (value !== undefined) etags.set(path, String(value));
              },
            }
          : {}),
      },
    ],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
  };
}

function loadWorkerMain(): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send!({ id: job.id, result } satisfies LoadReply),
      (err: unknown) => process.send!({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies LoadReply),
    );
  });
}

export interface LoadWorker {
  child: ChildProcess;
  run(job: Omit<LoadJob, 'id'>): Promise<LoadSummary>;
  stop(): Promise<void>;
}

export function startLoadWorker(): LoadWorker {
  const child = fork(import.meta.filename, [], {
    execArgv: ['--import', TSX_LOADER],
    env: { ...process.env, BENCH_LOAD_WORKER: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map<number, { done: (r: LoadSummary) => void; fail: (e: Error) => void }>();
  child.on('message', (reply: LoadReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if ('error' in reply) p.fail(new Error(`autocannon: ${reply.error}`));
    else p.done(reply.result);
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.fail(new Error(`the load generator exited with ${code}`));
    pending.clear();
  });
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    run: (job) =>
      new Promise((done, fail) => {
        const id = ++next;
        pending.set(id, { done, fail });
        child.send({ ...job, id } satisfies LoadJob);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}


if (process.env['BENCH_LOAD_WORKER'] === '1') loadWorkerMain();
