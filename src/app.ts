import type { Server } from 'node:http';
import { isAbsolute, relative } from 'node:path';
import type { Config } from './config/index.js';
import { installLink } from './auth/install.js';
import { Tokens } from './auth/tokens.js';
import { createMailer } from './mail/index.js';
import { createAuthLimiters } from './ratelimit/index.js';
import { connectDatabase, countMigrations, formatPlan, type ConnectOptions, migrate, type Database, type MigrateResult, type SqlRunner } from './db/index.js';
import type { WritePlugin } from './records/plugins.js';
import { buildRuntime, type RecordsRuntime, type RuntimeOptions } from './records/runtime.js';
import { ADMIN_DIST, appInFlight, createHttpApp, createHttpServer, REFERENCE_ASSETS, type InFlight } from './http/index.js';
import { AppHooks } from './hooks/index.js';
import { createFiles, type Files, type FilesOptions } from './files/index.js';
import type { Logger } from './log/index.js';
import type { Metrics } from './metrics/index.js';
import type { Realtime } from './realtime/index.js';
import { openApiDocument } from './openapi/index.js';
import { loadCollections, type Schema } from './schema/index.js';

/** The composition root: everything a command needs, passed explicitly (no module singletons). */
export interface App {
  config: Readonly<Config>;
  log: Logger;
  db: Database;
  schema: Schema;
  /** The compiled collections the API serves; rebuilt by activateSchema after each successful migration. */
  records: RecordsRuntime;
  /** What plugs into the write pipeline (files, hooks, realtime), compiled into `records` per collection. */
  plugins: WritePlugin[];
  /** The hooks files of the collections folder (attachHooks), when the command runs them. */
  hooks?: AppHooks;
  /** Realtime (SSE) of this node, once `serve` started it. */
  realtime?: Realtime;
  /** Uploads, downloads and file storage (attachFiles). */
  files?: Files;
}

export async function createApp(config: Readonly<Config>, log: Logger): Promise<App> {
  const schema = await loadSchema(config);
  for (const warning of schema.warnings) log.warn(warning);
  const db = await openDatabase(config.databaseUrl, { queryTimeoutMs: config.queryTimeoutMs, sqliteReaders: config.sqliteReaders });
  const plugins: WritePlugin[] = [];
  const app: App = { config, log, db, schema, plugins, records: buildRuntime(schema, db.dialect, runtimeOptions(log, plugins)) };
  attachFiles(app, { dataDir: config.dataDir, maxBodyBytes: config.maxBodyBytes, s3: config.s3 });
  try {
    await attachHooks(app, config.collectionsDir, { cronSeconds: config.cronSeconds });
  } catch (err) {
    await db.close();
    throw err;
  }
  return app;
}

/**
 * Loads the hooks files of `dir` (a file that fails stops the command: HooksLoadError, exit 2)
 * and puts them first in the write pipeline.
 */
export async function attachHooks(app: App, dir: string, options: { cronSeconds?: boolean } = {}): Promise<AppHooks> {
  const hooks = new AppHooks({ dir, runtime: () => app.records, runner: app.db.runner(), log: app.log, ...options });
  await hooks.load(app.schema);
  app.hooks = hooks;
  app.plugins.unshift(hooks.plugin);
  return hooks;
}

/** Puts the files subsystem (storage, uploads) in the write pipeline; activateSchema compiles it in. */
export function attachFiles(app: App, options: Omit<FilesOptions, 'report'>): Files {
  const files = createFiles({ ...options, report: (err, what) => app.log.error({ err }, `files: ${what} failed`) });
  app.files = files;
  app.plugins.push(files.plugin);
  return files;
}

/**
 * Loads the collection files; problems name each file relative to the working directory
 * (`collections/posts.json: /fields/2/maxSelect: …`) when the folder is inside it.
 */
export function loadSchema(config: Pick<Config, 'collectionsDir'>): Promise<Schema> {
  const rel = relative(process.cwd(), config.collectionsDir);
  const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? config.collectionsDir : rel;
  return loadCollections(shown);
}

/** The database cannot be reached: a runtime failure (exit 1) with a one-line message, not the driver's stack. */
export class DatabaseUnreachableError extends Error {}

/**
 * Opens the database, first checking that PostgreSQL answers, so that an unreachable server fails
 * promptly with one clear line (the pool would otherwise log the driver's stack and retry).
 */
export async function openDatabase(url: string, options: ConnectOptions = {}, timeoutMs = 10_000): Promise<Database> {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { default: pg } = await import('pg'); // not loaded at all on SQLite
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      throw new DatabaseUnreachableError(`Cannot connect to the database ${url.replace(/:[^:@/]*@/, ':***@')}: ${reason(err)}`, { cause: err });
    } finally {
      await client.end().catch(() => {});
    }
  }
  return connectDatabase(url, options);
}

function reason(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: { message?: string }[] };
  const text = e.message || e.errors?.map((x) => x.message).join('; ') || e.code || String(err);
  return text.replace(/\s+/g, ' ').trim();
}

/** Applies safe and rewrite steps (what `serve` may do on its own) and logs the plan. */
export async function migrateForServe(app: App): Promise<MigrateResult> {
  const result = await migrate(app.db, app.schema, { apply: true, allowDestructive: false });
  for (const drift of result.plan.drift) app.log.warn({ drift }, `drift: ${drift}`);
  if (result.plan.steps.length > 0) {
    app.log.info({ steps: result.plan.steps.map(({ kind, risk, summary }) => ({ kind, risk, summary })) }, `migrated: ${result.plan.steps.length} step(s)`);
    app.log.debug(formatPlan(result.plan));
  } else {
    app.log.info('database is up to date');
  }
  await activateSchema(app);
  return result;
}

/** Serves the current schema (migrated, Galley's own tables created under the migration lock): validators and SQL are compiled once here. */
export async function activateSchema(app: App): Promise<void> {
  app.records = buildRuntime(app.schema, app.db.dialect, runtimeOptions(app.log, app.plugins));
}

/** What the write pipeline needs besides the collections: its plugins and where after-commit errors go. */
function runtimeOptions(log: Logger, plugins: WritePlugin[]): RuntimeOptions {
  return { plugins, report: (err, stage) => log.error({ err }, `write pipeline: ${stage} work failed`) };
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting connections, lets in-flight requests finish (up to the timeout), closes the pool. */
  close(): Promise<void>;
}

export async function startServer(app: App): Promise<RunningServer> {
  const runner = app.db.runner();
  const runtime = () => app.records;
  const tokens = new Tokens(runner, runtime);
  const plain = createMailer(app.config.mail, app.log);
  const mailer = app.hooks ? app.hooks.mailer(plain) : plain;
  // Read per email: with port 0 (tests) the URL is known only once listening.
  const site = { name: app.config.appName, url: app.config.appUrl };
  const limiters = await createAuthLimiters({ limits: app.config.rateLimits, runner, redisUrl: app.config.redisUrl, log: app.log });
  const metrics = app.config.metrics ? await serverMetrics(runner) : null;
  const realtime = await startRealtime(app, metrics);
  const http = createHttpApp({
    log: app.log,
    records: { runtime, runner, tokens, ...(app.files ? { files: app.files } : {}) },
    auth: { auth: { runtime, runner, tokens, mailer, app: site, log: app.log, ...(app.hooks ? { onAuth: app.hooks.onAuth.bind(app.hooks) } : {}) }, limiters },
    ...(app.hooks ? { hooks: app.hooks } : {}),
    trustProxy: app.config.trustProxy,
    maxInFlight: app.config.maxInFlight,
    admin: { distDir: ADMIN_DIST, pendingPlan: async () => (await migrate(app.db, app.schema, { apply: false, allowDestructive: false })).plan },
    // Built on the first request after each load (and kept for that schema), not per request.
    openapi: { document: () => openApiDocument(app.records.schema, { title: app.config.appName }), assetsDir: REFERENCE_ASSETS },
    compression: app.config.compression,
    ...(metrics ? { metrics: { metrics, token: app.config.metricsToken } } : {}),
    realtime: { realtime },
  });
  if (app.files && metrics) app.files.plugin.metrics = metrics.files;
  const server = await new Promise<Server>((resolveListen, reject) => {
    const s = createHttpServer(http).listen(app.config.http.port, app.config.http.host, () => resolveListen(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : app.config.http.port;
  const url = `http://${app.config.http.host.includes(':') ? `[${app.config.http.host}]` : app.config.http.host}:${port}`;
  if (!app.config.appUrlSet) site.url = url;
  const link = await installLink({ tokens, runtime, runner }, site.url);
  if (link) app.log.warn({ installUrl: link }, `No superuser yet: open ${link} to create the first one (or run "galley superuser upsert EMAIL PASSWORD")`);
  app.hooks?.startCron();
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= shutdown(app, server, appInFlight(http)).finally(async () => {
      mailer.close();
      await limiters.close();
    }));
  return { server, url, close };
}

/**
 * Realtime joins the write pipeline (after the hooks: events leave after the after-hooks) and
 * serves `e.app.realtime` in hooks. Loaded here: only `serve` streams events.
 */
export async function startRealtime(app: App, metrics: Metrics | null, options: { publishOnly?: boolean } = {}): Promise<Realtime> {
  const { Realtime } = await import('./realtime/index.js');
  const realtime = new Realtime({
    runtime: () => app.records,
    runner: app.db.runner(),
    log: app.log,
    limits: { ...app.config.realtime },
    listenUrl: app.config.databaseUrl,
    ...(options.publishOnly ? { publishOnly: true } : {}),
    ...(metrics ? { metrics: metrics.realtime } : {}),
  });
  await realtime.start();
  app.realtime = realtime;
  app.plugins.push(realtime.plugin);
  if (app.hooks) app.hooks.services.realtime = realtime;
  await activateSchema(app);
  return realtime;
}

/** Loaded here rather than at the top: only `serve` needs prom-client, and every CLI command imports this file. */
async function serverMetrics(runner: SqlRunner): Promise<Metrics> {
  const { createMetrics } = await import('./metrics/index.js');
  return createMetrics({ pool: () => runner.stats?.() ?? { total: 0, idle: 0, waiting: 0 }, migrationsApplied: () => countMigrations(runner) });
}

async function shutdown(app: App, server: Server, inFlight: InFlight | undefined): Promise<void> {
  const started = Date.now();
  await app.hooks?.stop();
  // Open streams would hold server.close() until the timeout: end them first (the SDK reconnects elsewhere).
  await app.realtime?.close();
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), app.config.shutdownTimeoutMs);
  await closed;
  clearTimeout(timer);
  // Handlers of clients that hung up are still running: let them finish before the pool closes.
  await inFlight?.idle(Math.max(0, app.config.shutdownTimeoutMs - (Date.now() - started)));
  await app.db.close();
}
