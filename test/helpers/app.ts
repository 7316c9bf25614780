import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import type { Express } from 'express';
import pino from 'pino';
import { activateSchema, attachFiles, attachHooks, type App } from '../../src/app.js';
import type { FileStorage, Files } from '../../src/files/index.js';
import { Tokens } from '../../src/auth/tokens.js';
import type { RateLimitsConfig } from '../../src/config/index.js';
import { createMailer } from '../../src/mail/index.js';
import { createAuthLimiters } from '../../src/ratelimit/index.js';
import { countMigrations, migrate, type ConnectOptions, type DialectName, type SqlRunner } from '../../src/db/index.js';
import { ADMIN_DIST, createHttpApp, createHttpServer, REFERENCE_ASSETS } from '../../src/http/index.js';
import { createMetrics, type Metrics } from '../../src/metrics/index.js';
import { openApiDocument } from '../../src/openapi/index.js';
import { Realtime, type RealtimeLimits } from '../../src/realtime/index.js';
import { createRecord } from '../../src/records/service.js';
import type { WritePlugin } from '../../src/records/plugins.js';
import type { RequestInfo } from '../../src/records/types.js';
import { loadCollections, type Schema } from '../../src/schema/index.js';
import { freshDatabase } from './dialects.js';
import { schemaOf } from './schema.js';

export const EXAMPLE_COLLECTIONS = resolve(import.meta.dirname, '../../collections');

/** The requester used to seed data: a superuser that bypasses every rule. */
export const SEEDER: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'default', query: {}, headers: {}, body: {} };

export interface TestApp {
  app: App;
  /** The Express app, for supertest. */
  http: Express;
  tokens: Tokens;
  /** A fresh superuser's token (until the auth endpoints exist, this is how tests get one). */
  superuserToken(): Promise<string>;
  /** Creates a record as a superuser through the records service; returns the API record. */
  seed(collection: string, data: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The app's metrics (as `GET /metrics` renders them). */
  metrics: Metrics;
  /** The database URL, for other processes (the CLI) on the same database. */
  dbUrl: string;
  /** The app's realtime service (SSE clients, the write-pipeline plugin). */
  realtime: Realtime;
  /** The files subsystem; its data folder (a temp folder, removed on close) holds `storage/`. */
  files: Files;
  dataDir: string;
  /** Listens on a free port; resolves to the base URL (for the pocketbase SDK). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Where emails go (an in-process sink: test/helpers/smtp-sink.ts); default: the (silent) log. */
  smtpUrl?: string;
  /** Default: no limits, so scenario suites never trip them. */
  rateLimits?: RateLimitsConfig;
  redisUrl?: string;
  /** Default: pino at GALLEY_TEST_LOG (silent). */
  log?: pino.Logger;
  /** Extra parts of the write pipeline (test probes at its stages). */
  plugins?: WritePlugin[];
  /** Database connection options (a query timeout, SQLite reader threads). */
  connect?: ConnectOptions;
  /** GALLEY_MAX_IN_FLIGHT (default: no limit). */
  maxInFlight?: number;
  /** Load the hooks files of this folder (e.g. EXAMPLE_COLLECTIONS), as `serve` does. Default: none. */
  hooksDir?: string;
  /** Sees every statement the records API runs for a request (text and values), e.g. to EXPLAIN it. */
  onSql?: (text: string, values: readonly unknown[]) => void;
  /** GALLEY_METRICS_TOKEN; default none. */
  metricsToken?: string;
  /** Default true, as in production. */
  compression?: boolean;
  /** Mount the admin panel's routes too (`/_/`, `GET /api/galley/migrations`). */
  admin?: boolean;
  /** Realtime limits (e.g. a short idle close); default: production's. */
  realtime?: Partial<RealtimeLimits>;
  /** File storage other than the local folder (an S3 bucket); the data folder is still a temp folder. */
  storage?: FileStorage;
  /** GALLEY_MAX_BODY_BYTES (default 32 MiB). */
  maxBodyBytes?: number;
}

const NO_LIMITS: RateLimitsConfig = { authPerIp: { max: 0, windowSeconds: 1 }, authPerIdentity: { max: 0, windowSeconds: 1 } };
export const TEST_APP_URL = 'http://galley.test';

/**
 * A real Galley app on a fresh database (SQLite file or PostgreSQL schema), with
 * the example collections or inline ones, migrated and ready to serve.
 */
export async function createTestApp(dialect: DialectName, collections?: Record<string, unknown>[], options: TestAppOptions = {}): Promise<TestApp> {
  const schema: Schema = collections ? schemaOf(...collections) : await loadCollections(EXAMPLE_COLLECTIONS);
  const t = await freshDatabase(dialect, options.connect);
  await migrate(t.db, schema, { apply: true, allowDestructive: false });
  const log = options.log ?? pino({ level: process.env['GALLEY_TEST_LOG'] ?? 'silent' });
  const app: App = { config: {} as App['config'], log, db: t.db, schema, plugins: [...(options.plugins ?? [])], records: null as unknown as App['records'] };
  if (options.hooksDir) await attachHooks(app, options.hooksDir, { cronSeconds: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'galley-data-'));
  const files = attachFiles(app, { dataDir, ...(options.storage ? { storage: options.storage } : {}), ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}) });
  const runner = t.db.runner();
  // Node's default metrics (event-loop monitors) are left out: a test process builds hundreds of apps.
  const metrics = createMetrics({ defaultMetrics: false, pool: () => runner.stats!(), migrationsApplied: () => countMigrations(runner) });
  const realtime = new Realtime({ runtime: () => app.records, runner, log, metrics: metrics.realtime, listenUrl: t.url, ...(options.realtime ? { limits: options.realtime } : {}) });
  await realtime.start();
  app.realtime = realtime;
  app.plugins.push(realtime.plugin);
  if (app.hooks) app.hooks.services.realtime = realtime;
  await activateSchema(app);
  const runtime = () => app.records;
  const tokens = new Tokens(runner, runtime);
  const plainMailer = createMailer({ smtpUrl: options.smtpUrl ?? null, from: 'Galley Test <galley@example.com>' }, log);
  const mailer = app.hooks ? app.hooks.mailer(plainMailer) : plainMailer;
  const limiters = await createAuthLimiters({ limits: options.rateLimits ?? NO_LIMITS, runner, redisUrl: options.redisUrl ?? null, log });
  const http = createHttpApp({
    log,
    records: { runtime, runner: options.onSql ? observed(runner, options.onSql) : runner, tokens, files },
    auth: { auth: { runtime, runner, tokens, mailer, app: { name: 'Galley Test', url: TEST_APP_URL }, log, ...(app.hooks ? { onAuth: app.hooks.onAuth.bind(app.hooks) } : {}) }, limiters },
    maxInFlight: options.maxInFlight ?? 0,
    ...(app.hooks ? { hooks: app.hooks } : {}),
    openapi: { document: () => openApiDocument(app.records.schema), assetsDir: REFERENCE_ASSETS },
    metrics: { metrics, token: options.metricsToken ?? null },
    compression: options.compression ?? true,
    realtime: { realtime },
    ...(options.admin ? { admin: { distDir: ADMIN_DIST, pendingPlan: async () => (await migrate(t.db, app.records.schema, { apply: false, allowDestructive: false })).plan } } : {}),
  });
  files.plugin.metrics = metrics.files;
  let server: Server | null = null;
  let n = 0;
  const seed = async (collection: string, data: Record<string, unknown>) =>
    (await createRecord({ runtime: app.records, runner }, collection, data, {}, SEEDER)).record;
  return {
    app,
    http,
    tokens,
    metrics,
    realtime,
    dbUrl: t.url,
    files,
    dataDir,
    seed,
    async superuserToken() {
      const email = `root${++n}_${Date.now()}@example.com`;
      const record = await seed('_superusers', { email, password: 'password123', passwordConfirm: 'password123' });
      const rows = await runner.all('SELECT "tokenKey" FROM "_superusers" WHERE "id" = ?', [record['id']]);
      return tokens.sign(app.records.find('_superusers')!, { ...record, tokenKey: rows[0]!['tokenKey'] });
    },
    listen: () =>
      new Promise((done) => {
        server = createHttpServer(http).listen(0, '127.0.0.1', () => {
          const address = server!.address();
          done(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
        });
      }),
    async close() {
      await realtime.close();
      if (server) await new Promise((r) => server!.close(() => r(null)));
      await app.hooks?.stop();
      mailer.close();
      await limiters.close();
      await t.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The runner, telling `onSql` each statement before it runs (inside transactions too). */
function observed(runner: SqlRunner, onSql: (text: string, values: readonly unknown[]) => void): SqlRunner {
  return {
    dialect: runner.dialect,
    all: (text, values) => {
      onSql(text, values);
      return runner.all(text, values);
    },
    read: (text, values) => {
      onSql(text, values);
      return runner.read(text, values);
    },
    run: (text, values) => {
      onSql(text, values);
      return runner.run(text, values);
    },
    transaction: (fn) => runner.transaction((tx) => fn(observed(tx, onSql))),
    close: () => runner.close(),
  };
}
