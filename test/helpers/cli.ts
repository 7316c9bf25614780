import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: the CLI runs from here so `tsx` and `src/main.ts` resolve. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliOptions {
  /** Working directory of the child (default: the repository root). */
  cwd?: string;
  /** Environment overrides; `undefined` removes a variable. Galley's own variables are cleared unless given. */
  env?: Record<string, string | undefined>;
  /** runCli: kill the child and fail after this many milliseconds (default 30 s); startServe: how long to wait for the listening line (default 20 s). */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const GALLEY_ENV = ['DATABASE_URL', 'GALLEY_COLLECTIONS', 'GALLEY_DATA', 'GALLEY_HTTP', 'GALLEY_LOG_LEVEL', 'GALLEY_LOG_PRETTY', 'GALLEY_SHUTDOWN_TIMEOUT_MS', 'GALLEY_DEBUG', 'GALLEY_METRICS', 'GALLEY_METRICS_TOKEN', 'GALLEY_COMPRESSION'];

function childEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', GALLEY_LOG_PRETTY: 'false' };
  for (const name of GALLEY_ENV) if (name !== 'GALLEY_LOG_PRETTY') delete env[name];
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** tsx's loader by absolute URL, so the CLI also runs with a working directory outside the repository. */
const TSX_LOADER = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href;
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function spawnGalley(args: string[], options: CliOptions): ChildProcess {
  return spawn(process.execPath, ['--import', TSX_LOADER, MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `galley ARGS…` to completion as a child process. */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnGalley(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error(`galley ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
  return { code, signal, stdout, stderr };
}

/** A TCP port that was free a moment ago (the server is told to use it explicitly). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** One parsed JSON log line (pino). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number; reqId?: string };

export interface ServeHandle {
  child: ChildProcess;
  url: string;
  port: number;
  /** Raw stdout/stderr so far. */
  stdout(): string;
  stderr(): string;
  /** stdout parsed as JSON lines (non-JSON lines fail the parse loudly). */
  logs(): LogLine[];
  /** Resolves with the first log line matching `predicate` (already written or still to come). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM and waits for exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServeOptions extends CliOptions {
  /** Extra arguments after `serve --http 127.0.0.1:PORT`. */
  args?: string[];
}

/**
 * Spawns `galley serve --http 127.0.0.1:<free port>` and waits for the "listening" log line.
 * Rejects (with the output) if the process exits first.
 */
export async function startServe(options: ServeOptions = {}): Promise<ServeHandle> {
  const port = await freePort();
  const child = spawnGalley(['serve', '--http', `127.0.0.1:${port}`, ...(options.args ?? [])], options);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('close', (code, signal) => {
      notify();
      done({ code, signal });
    }),
  );
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void exited.then((e) => (exitInfo = e));

  const logs = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as LogLine;
        } catch {
          throw new Error(`not a JSON log line: ${l}`);
        }
      });

  // Generous: on a loaded 2-core machine (suites of several engineers at once) spawning tsx and
  // migrating has taken over 20 s before the first log line. Still under the 60 s test timeout.
  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 45_000) =>
    new Promise<LogLine>((resolveWait, reject) => {
      const check = () => {
        const found = logs().find(predicate);
        if (found) return finish(() => resolveWait(found));
        if (exitInfo) finish(() => reject(new Error(`galley serve exited (${JSON.stringify(exitInfo)}) before the expected log line\nstdout: ${stdout}\nstderr: ${stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for a log line\nstdout: ${stdout}\nstderr: ${stderr}`))), timeoutMs);
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      waiters.add(check);
      check();
    });

  const stop = async (timeoutMs = 15_000) => {
    if (!exitInfo) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  const handle: ServeHandle = { child, url: `http://127.0.0.1:${port}`, port, stdout: () => stdout, stderr: () => stderr, logs, waitForLog, exited, stop };
  try {
    await handle.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('listening'), options.timeoutMs ?? 60_000);
  } catch (err) {
    if (!exitInfo) await stop();
    throw err;
  }
  return handle;
}
