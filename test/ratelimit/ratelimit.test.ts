import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Options, Store } from 'express-rate-limit';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import type { RateLimitsConfig } from '../../src/config/index.js';
import { connectDatabase, ensureSystemTables, RATE_LIMITS_TABLE, type Database, type DialectName, type SqlRunner } from '../../src/db/index.js';
import { AppError } from '../../src/errors/index.js';
import { errorHandler } from '../../src/http/error-handler.js';
import { createLogger } from '../../src/log/index.js';
import { createAuthLimiters, databaseStore, redisStore, type AuthLimiters } from '../../src/ratelimit/index.js';
import { redisUnreachable } from '../helpers/redis.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

/**
 * Redis suites run against GALLEY_TEST_REDIS (default: a local Redis). Unreachable: a CI run
 * fails, a local run skips them and says why (like GALLEY_TEST_PG in helpers/global-setup.ts).
 */
const REDIS_URL = process.env['GALLEY_TEST_REDIS'] ?? 'redis://127.0.0.1:6379';
const redisProblem = await redisUnreachable(REDIS_URL);
if (redisProblem && process.env['CI']) throw new Error(`Redis at ${REDIS_URL} is unreachable (CI is set, so this fails): ${redisProblem}`);
if (redisProblem) console.log(`[galley tests] Redis rate-limit suite skipped: ${REDIS_URL} is unreachable (${redisProblem}); set CI to make this fail.`);

type BackendName = DialectName | 'redis';
const BACKENDS: BackendName[] = [...DIALECTS, 'redis'];

/** Where counters live; `limiters()` is one more Galley node on the same shared storage. */
interface Backend {
  limiters(limits: Partial<RateLimitsConfig>): Promise<AuthLimiters>;
  store(prefix: string): Promise<Store & { close?(): Promise<void> }>;
  /** The live count of a store key (prefix included), 0 when absent or expired. */
  hits(key: string): Promise<number>;
  /** Forgets every count: the tests share the client IP, so each starts from zero. */
  clear(): Promise<void>;
  dispose(): Promise<void>;
}

const UNLIMITED = { max: 0, windowSeconds: 1 };
const silentLog = createLogger({ logLevel: 'silent', prettyLogs: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(BACKENDS)('auth rate limits (%s)', (name) => {
  if (name === 'redis' && redisProblem) {
    it.skip(`needs Redis at ${REDIS_URL}: ${redisProblem}`, () => {});
    return;
  }
  let backend: Backend;
  let consoleSpies: MockInstance[];
  beforeAll(async () => {
    backend = name === 'redis' ? await redisBackend() : await databaseBackend(name);
  });
  afterAll(async () => backend?.dispose());
  // express-rate-limit reports misconfigurations on the console: none may show up.
  beforeEach(async () => {
    await backend.clear();
    consoleSpies = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'error')];
  });
  afterEach(() => {
    for (const spy of consoleSpies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
  });

  it('perIp allows max requests per window, answers 429 through the error handler, then recovers', async () => {
    const limiters = await backend.limiters({ authPerIp: { max: 3, windowSeconds: 1 } });
    const http = authApp({ login: [limiters.perIp] });
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      const ok = await request(http).post('/login').send({});
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"auth-ip"; r=${2 - i}; t=1$`));
    }
    const limited = await request(http).post('/login').send({});
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ status: 429, message: 'Too Many Requests.', data: {}, code: 'rate_limited' });
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['ratelimit-policy']).toMatch(/^"auth-ip"; q=3; w=1; pk=:/);
    expect(limited.headers['x-ratelimit-limit']).toBeUndefined();
    await sleep(started + 1250 - Date.now());
    expect((await request(http).post('/login').send({})).status).toBe(200);
  });

  it('two nodes on the same storage share the count', async () => {
    const limits = { authPerIp: { max: 3, windowSeconds: 60 } };
    const nodeA = authApp({ login: [(await backend.limiters(limits)).perIp] });
    const nodeB = authApp({ login: [(await backend.limiters(limits)).perIp] });
    expect((await request(nodeA).post('/login').send({})).status).toBe(200);
    expect((await request(nodeA).post('/login').send({})).status).toBe(200);
    expect((await request(nodeB).post('/login').send({})).status).toBe(200);
    expect((await request(nodeB).post('/login').send({})).status).toBe(429);
    expect((await request(nodeA).post('/login').send({})).status).toBe(429);
  });

  it('perIp groups IPv6 clients by /56 (behind a trusted proxy)', async () => {
    const limiters = await backend.limiters({ authPerIp: { max: 2, windowSeconds: 60 } });
    const http = authApp({ login: [limiters.perIp] });
    http.set('trust proxy', 'loopback');
    const from = (ip: string) => request(http).post('/login').set('X-Forwarded-For', ip).send({});
    expect((await from('2001:db8:0:1::1')).status).toBe(200);
    expect((await from('2001:db8:0:2::1')).status).toBe(200);
    expect((await from('2001:db8:0:3::1')).status).toBe(429);
    expect((await from('2001:db8:0:100::1')).status).toBe(200);
  });

  it('perIdentity counts only failed requests, per normalized identity', async () => {
    const limiters = await backend.limiters({ authPerIdentity: { max: 2, windowSeconds: 60 } });
    const http = authApp({ login: [express.json(), limiters.perIdentity(emailKey)] });
    const login = (body: object) => request(http).post('/login').send(body);
    for (let i = 0; i < 5; i++) expect((await login({ email: 'alice@example.com' })).status).toBe(200);
    // The refund of a success runs after its response finished: wait for it before counting failures.
    await settled(() => backend.hits('auth-id:users:alice@example.com'), 0);
    expect((await login({ email: 'alice@example.com', fail: true })).status).toBe(400);
    expect((await login({ email: 'Alice@Example.com', fail: true })).status).toBe(400);
    const limited = await login({ email: 'ALICE@example.com' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login({ email: 'bob@example.com', fail: true })).status).toBe(400);
    for (let i = 0; i < 4; i++) expect((await login({ fail: true })).status).toBe(400); // no identity: not limited
  });

  it('perIdentity with countSuccessful counts every request, in counters of its own', async () => {
    const limiters = await backend.limiters({ authPerIdentity: { max: 2, windowSeconds: 60 } });
    const http = authApp({ send: [express.json(), limiters.perIdentity(emailKey, { countSuccessful: true })], login: [express.json(), limiters.perIdentity(emailKey)] });
    const body = { email: 'carol@example.com' };
    expect((await request(http).post('/send').send(body)).status).toBe(200);
    expect((await request(http).post('/send').send(body)).status).toBe(200);
    expect((await request(http).post('/send').send(body)).status).toBe(429);
    expect((await request(http).post('/login').send({ ...body, fail: true })).status).toBe(400);
  });

  it('per-IP and per-identity policies both show in the RateLimit header', async () => {
    const limiters = await backend.limiters({ authPerIp: { max: 5, windowSeconds: 60 }, authPerIdentity: { max: 2, windowSeconds: 60 } });
    const http = authApp({ login: [limiters.perIp, express.json(), limiters.perIdentity(emailKey)] });
    const res = await request(http).post('/login').send({ email: 'dave@example.com', fail: true });
    expect(res.status).toBe(400);
    expect(res.headers['ratelimit']).toBe('"auth-ip"; r=4; t=60, "auth-id"; r=1; t=60');
  });

  it('max 0 disables a limiter', async () => {
    const limiters = await backend.limiters({ authPerIp: UNLIMITED, authPerIdentity: UNLIMITED });
    const http = authApp({ login: [limiters.perIp, express.json(), limiters.perIdentity(emailKey)] });
    for (let i = 0; i < 10; i++) {
      const res = await request(http).post('/login').send({ email: 'erin@example.com', fail: true });
      expect(res.status).toBe(400);
      expect(res.headers['ratelimit']).toBeUndefined();
    }
    expect(await backend.hits('auth-id:users:erin@example.com')).toBe(0);
  });

  it('counts 20 concurrent hits on one key exactly once each', async () => {
    const store = await backend.store('concurrent:');
    await store.init?.({ windowMs: 60_000 } as Options);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.increment('k')));
    expect(results.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await store.close?.();
  });

  it('decrements, reads and resets a key', async () => {
    const store = await backend.store('ops:');
    await store.init?.({ windowMs: 60_000 } as Options);
    await store.increment('k');
    const second = await store.increment('k');
    expect(second.resetTime!.getTime()).toBeGreaterThan(Date.now() + 55_000);
    await store.decrement('k');
    expect((await store.get!('k'))?.totalHits).toBe(1);
    await store.resetKey('k');
    expect(await store.get!('k')).toBeUndefined();
    expect((await store.increment('k')).totalHits).toBe(1);
    await store.close?.();
  });
});

describe.each(DIALECTS)('database rate-limit store (%s)', (dialect) => {
  let t: TestDatabase;
  let runner: SqlRunner;
  beforeAll(async () => {
    t = await freshDatabase(dialect);
    runner = t.db.runner();
    await ensureSystemTables(runner);
  });
  afterAll(async () => t?.drop());
  afterEach(() => vi.useRealTimers());

  const keys = async () => (await runner.all(`SELECT "key" FROM "${RATE_LIMITS_TABLE}" ORDER BY "key"`, [])).map((r) => r['key']);
  const insertExpired = (key: string) => runner.run(`INSERT INTO "${RATE_LIMITS_TABLE}" ("key", "hits", "reset_at") VALUES (?, 5, ?)`, [key, Date.now() - 1000]);

  it('prunes expired rows, at most once a minute', async () => {
    const store = databaseStore(runner, 'prune:');
    store.init!({ windowMs: 1000 } as Options);
    await insertExpired('old-1');
    await store.increment('live');
    expect(await keys()).toEqual(['prune:live']);
    await insertExpired('old-2');
    await store.increment('live');
    expect(await keys()).toEqual(['old-2', 'prune:live']);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    await store.increment('other');
    // 'prune:live' ended a minute ago too: only the row just written remains.
    expect(await keys()).toEqual(['prune:other']);
  });

  it('restarts the window of an expired key', async () => {
    const store = databaseStore(runner, 'restart:');
    store.init!({ windowMs: 60_000 } as Options);
    await store.increment('first'); // prunes now, so the expired row below stays for the upsert to find
    await runner.run(`INSERT INTO "${RATE_LIMITS_TABLE}" ("key", "hits", "reset_at") VALUES (?, 7, ?)`, ['restart:k', Date.now() - 1]);
    const hit = await store.increment('k');
    expect(hit.totalHits).toBe(1);
    expect(hit.resetTime!.getTime()).toBeGreaterThan(Date.now() + 55_000);
  });
});

describe('redis connection', () => {
  it('refuses to start when Redis cannot be reached, without printing the password', async () => {
    const errors = vi.spyOn(console, 'error');
    const limits = withDefaults({ authPerIp: { max: 1, windowSeconds: 1 } });
    const started = createAuthLimiters({ limits, runner: unusedRunner, redisUrl: 'redis://:s3cret@127.0.0.1:1' });
    await expect(started).rejects.toThrow(/^Cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: /);
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});

/** Database counters; every `limiters()` call opens its own connection, like another node would. */
async function databaseBackend(dialect: DialectName): Promise<Backend> {
  const t = await freshDatabase(dialect);
  await ensureSystemTables(t.db.runner());
  const nodes: Database[] = [];
  return {
    limiters: async (limits) => {
      const node = connectDatabase(t.url);
      nodes.push(node);
      return createAuthLimiters({ limits: withDefaults(limits), runner: node.runner(), redisUrl: null });
    },
    store: async (prefix) => databaseStore(t.db.runner(), prefix),
    hits: async (key) => {
      const rows = await t.db.runner().all(`SELECT "hits" FROM "${RATE_LIMITS_TABLE}" WHERE "key" = ? AND "reset_at" > ?`, [key, Date.now()]);
      return rows[0] ? Number(rows[0]['hits']) : 0;
    },
    clear: async () => {
      await t.db.runner().run(`DELETE FROM "${RATE_LIMITS_TABLE}"`, []);
    },
    dispose: async () => {
      await Promise.all(nodes.map((n) => n.close()));
      await t.drop();
    },
  };
}

/** Redis counters under a prefix of this run's own, deleted at the end. */
async function redisBackend(): Promise<Backend> {
  const prefix = `galley-test:${randomBytes(6).toString('hex')}:`;
  const admin = createClient({ url: REDIS_URL });
  await admin.connect();
  const open: AuthLimiters[] = [];
  const clear = async () => {
    for await (const keys of admin.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await admin.del(keys);
  };
  return {
    limiters: async (limits) => {
      // The database must not be touched when Redis holds the counters.
      const limiters = await createAuthLimiters({ limits: withDefaults(limits), runner: unusedRunner, redisUrl: REDIS_URL, redisPrefix: prefix, log: silentLog });
      open.push(limiters);
      return limiters;
    },
    store: (storePrefix) => redisStore(REDIS_URL, prefix + storePrefix),
    hits: async (key) => Number((await admin.get(prefix + key)) ?? 0),
    clear,
    dispose: async () => {
      await Promise.all(open.map((l) => l.close()));
      await clear();
      await admin.close();
    },
  };
}

const unusedRunner: SqlRunner = {
  dialect: 'sqlite',
  all: () => Promise.reject(new Error('the database is not used for Redis counters')),
  read: () => Promise.reject(new Error('the database is not used for Redis counters')),
  run: () => Promise.reject(new Error('the database is not used for Redis counters')),
  transaction: () => Promise.reject(new Error('the database is not used for Redis counters')),
  close: async () => {},
};

function withDefaults(limits: Partial<RateLimitsConfig>): RateLimitsConfig {
  return { authPerIp: UNLIMITED, authPerIdentity: UNLIMITED, ...limits };
}

function emailKey(req: Request): string | undefined {
  const email = (req.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? `users:${email}` : undefined;
}

/** POST routes behind the given middleware: 200, or 400 (auth_failed) when the body says `fail`. */
function authApp(routes: Record<string, RequestHandler[]>): Express {
  const app = express();
  for (const [path, handlers] of Object.entries(routes)) {
    app.post(`/${path}`, ...handlers, express.json(), (req, res, next) => {
      if ((req.body as { fail?: boolean } | undefined)?.fail) next(new AppError('auth_failed'));
      else res.json({ ok: true });
    });
  }
  app.use(errorHandler(silentLog));
  return app;
}

async function settled(read: () => Promise<number>, expected: number): Promise<void> {
  for (const deadline = Date.now() + 2000; Date.now() < deadline; await sleep(10)) {
    if ((await read()) === expected) return;
  }
  expect(await read()).toBe(expected);
}
