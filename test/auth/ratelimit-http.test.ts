/**
 * The auth rate limits through the real app (galley.md §7; pocketbase-api.md §0 "Rate limiter"):
 * per identity (failed sign-ins; emails sent) and per client IP (every POST auth request), 429 with
 * the usual error body and `Retry-After`, recovery after the window — with the counters in the
 * database (each engine) and in Redis, and shared by two app instances ("nodes") on the same storage.
 *
 * Limits: 5 requests per IP, 3 per identity, in 2 s windows for the tests that wait for the recovery
 * (one real wait each) and in 10 s windows elsewhere, so that a slow machine cannot see a window end
 * in the middle of a test. Each test starts on fresh counters: a new database; with Redis (whose keys
 * outlive the app) fresh identities and a client IP of its own (`X-Forwarded-For` behind a trusted
 * loopback proxy).
 */
import { randomInt } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tokens } from '../../src/auth/tokens.js';
import type { RateLimitsConfig } from '../../src/config/index.js';
import { createHttpApp } from '../../src/http/index.js';
import { createMailer } from '../../src/mail/index.js';
import { createAuthLimiters } from '../../src/ratelimit/index.js';
import { createTestApp, TEST_APP_URL, type TestApp } from '../helpers/app.js';
import { redisUnreachable } from '../helpers/redis.js';
import { DIALECTS } from '../helpers/dialects.js';

const REDIS_URL = process.env['GALLEY_TEST_REDIS'] ?? 'redis://127.0.0.1:6379';
const redisProblem = await redisUnreachable(REDIS_URL);
if (redisProblem && process.env['CI']) throw new Error(`Redis at ${REDIS_URL} is unreachable (CI is set, so this fails): ${redisProblem}`);

/** The limits of the brief, for the tests that wait for a window to end. */
const SHORT: RateLimitsConfig = { authPerIp: { max: 5, windowSeconds: 2 }, authPerIdentity: { max: 3, windowSeconds: 2 } };
const SHORT_WINDOW_MS = 2000;
/** Same counts, windows no test outlives. */
const LONG: RateLimitsConfig = { authPerIp: { max: 5, windowSeconds: 10 }, authPerIdentity: { max: 3, windowSeconds: 10 } };
const PASSWORD = 'password123';
const PW = { password: PASSWORD, passwordConfirm: PASSWORD };

type Backend = 'sqlite' | 'postgres' | 'redis';
const BACKENDS: Backend[] = [...DIALECTS, 'redis'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  data: Record<string, unknown>;
}

describe.each(BACKENDS)('auth rate limits over HTTP (%s)', (backend) => {
  if (backend === 'redis' && redisProblem) {
    it.skip(`needs Redis at ${REDIS_URL}: ${redisProblem}`, () => {});
    return;
  }
  const redisUrl = backend === 'redis' ? REDIS_URL : undefined;
  let t: TestApp | null = null;
  /** Closes what secondNode() opened. */
  let cleanups: (() => unknown)[] = [];
  /** Redis keys outlive the app: each test signs in as its own people, from its own address. */
  let ann = '';
  let bob = '';
  let clientIp: string | null = null;
  let limits = LONG;

  beforeEach(() => {
    const tag = `${Date.now().toString(36)}${randomInt(1e6)}`;
    ann = `ann_${tag}@example.com`;
    bob = `bob_${tag}@example.com`;
    clientIp = backend === 'redis' ? `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}` : null;
  });
  afterEach(async () => {
    await Promise.all(cleanups.map((close) => close()));
    cleanups = [];
    await t?.close();
    t = null;
  });

  /** The app of this test, with these limits. */
  async function start(config: RateLimitsConfig = LONG): Promise<TestApp> {
    limits = config;
    t = await createTestApp(backend === 'redis' ? 'sqlite' : backend, undefined, { rateLimits: config, ...(redisUrl ? { redisUrl } : {}) });
    if (clientIp) t.http.set('trust proxy', 'loopback');
    await t.seed('users', { email: ann, ...PW });
    await t.seed('users', { email: bob, ...PW });
    return t;
  }
  const app = () => t!;

  const from = (req: request.Test) => (clientIp ? req.set('X-Forwarded-For', clientIp) : req);
  const signIn = (identity: string, password: string, http: Express = app().http) =>
    from(request(http).post('/api/collections/users/auth-with-password')).send({ identity, password });
  const reset = (email: string, http: Express = app().http) => from(request(http).post('/api/collections/users/request-password-reset')).send({ email });

  function expectLimited(res: request.Response): void {
    expect(res.status, res.text).toBe(429);
    const body = res.body as ErrorBody;
    expect(Object.keys(body).sort()).toEqual(['code', 'data', 'message', 'status']);
    expect(body).toMatchObject({ status: 429, code: 'rate_limited', data: {} });
    expect(typeof body.message).toBe('string');
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter), `Retry-After: ${res.headers['retry-after']}`).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(limits.authPerIdentity.windowSeconds);
  }

  it('3 wrong passwords for one identity, then 429; another identity is still served until the per-IP limit', async () => {
    await start();
    for (let i = 0; i < 3; i++) expect((await signIn(ann, 'wrong-password')).status).toBe(400);
    expectLimited(await signIn(ann, 'wrong-password'));
    // request 5 from this IP, another identity: served
    const other = await signIn(bob, PASSWORD);
    expect(other.status, other.text).toBe(200);
    expect(other.headers['ratelimit']).toMatch(/"auth-ip"; r=0; t=\d+/);
    // request 6: the per-IP limit
    expectLimited(await signIn(bob, PASSWORD));
  });

  it('a correct password for a limited identity is refused too (any case of the email), until the window ends', async () => {
    await start(SHORT);
    const first = await signIn(ann, 'wrong-password');
    const windowEnd = Date.now() + SHORT_WINDOW_MS;
    expect(first.status).toBe(400);
    for (let i = 0; i < 2; i++) expect((await signIn(ann, 'wrong-password')).status).toBe(400);
    expectLimited(await signIn(ann, PASSWORD));
    expectLimited(await signIn(ann.toUpperCase(), PASSWORD));
    expect(Date.now(), 'the requests took longer than the window: the test proves nothing on this machine').toBeLessThan(windowEnd);
    await sleep(windowEnd + 150 - Date.now());
    const after = await signIn(ann, PASSWORD);
    expect(after.status, after.text).toBe(200);
    // the failure count restarted as well
    expect((await signIn(ann, 'wrong-password')).status).toBe(400);
  });

  it('the identity budget is per collection, however the path spells it (name, upper case, id)', async () => {
    await start();
    const id = app().app.records.find('users')!.collection.id;
    const at = (path: string) => from(request(app().http).post(`/api/collections/${path}/auth-with-password`)).send({ identity: ann, password: 'wrong-password' });
    for (const path of ['users', 'USERS', id]) expect((await at(path)).status).toBe(400);
    expectLimited(await at('Users'));
  });

  it('successful sign-ins do not count against the identity', async () => {
    await start();
    for (let i = 0; i < 4; i++) {
      expect((await signIn(ann, PASSWORD)).status).toBe(200);
      await sleep(100); // the refund of a success is written after its response
    }
    expect((await signIn(ann, 'wrong-password')).status).toBe(400);
  });

  it('the per-IP limit trips across identities and endpoints, and recovers', async () => {
    await start(SHORT);
    const first = await signIn(`nobody0_${ann}`, 'wrong-password');
    const windowEnd = Date.now() + SHORT_WINDOW_MS;
    expect(first.status).toBe(400);
    for (let i = 1; i < 5; i++) expect((await signIn(`nobody${i}_${ann}`, 'wrong-password')).status).toBe(400);
    expectLimited(await signIn(`nobody5_${ann}`, 'wrong-password'));
    expectLimited(await signIn(bob, PASSWORD));
    expectLimited(await reset(bob));
    expectLimited(await from(request(app().http).post('/api/collections/users/auth-refresh')));
    expect(Date.now(), 'the requests took longer than the window: the test proves nothing on this machine').toBeLessThan(windowEnd);
    // not auth POSTs: auth-methods and records are not limited
    expect((await from(request(app().http).get('/api/collections/users/auth-methods'))).status).toBe(200);
    expect((await from(request(app().http).get('/api/collections/posts/records'))).status).toBe(200);
    await sleep(windowEnd + 150 - Date.now());
    expect((await signIn(bob, PASSWORD)).status).toBe(200);
    expect((await signIn(`nobody6_${ann}`, 'wrong-password')).status).toBe(400);
  });

  it('request-password-reset for one address is limited too (204s count); another address is still served', async () => {
    await start();
    for (let i = 0; i < 3; i++) expect((await reset(ann)).status).toBe(204);
    expectLimited(await reset(ann));
    expect((await reset(bob)).status).toBe(204);
  });

  it('request-password-reset for an unknown address counts the same way (no enumeration by the limiter)', async () => {
    await start();
    const ghost = `ghost_${ann}`;
    for (let i = 0; i < 3; i++) expect((await reset(ghost)).status).toBe(204);
    expectLimited(await reset(ghost));
  });

  it('a very long identity is limited like any other (hashed key), no 500', async () => {
    await start();
    const identity = `${'x'.repeat(20_000)}${ann}`;
    for (let i = 0; i < 3; i++) expect((await signIn(identity, 'wrong-password')).status).toBe(400);
    expectLimited(await signIn(identity, 'wrong-password'));
  });

  it('two app instances on the same storage share the counters', async () => {
    const nodeA = (await start()).http;
    const nodeB = await secondNode(app());
    expect((await signIn(ann, 'wrong-password', nodeA)).status).toBe(400);
    expect((await signIn(ann, 'wrong-password', nodeB)).status).toBe(400);
    expect((await signIn(ann, 'wrong-password', nodeA)).status).toBe(400);
    expectLimited(await signIn(ann, PASSWORD, nodeB));
    // 4 requests so far from this IP; the 5th (node A) passes, the 6th (node B) is over the per-IP limit
    expect((await signIn(bob, PASSWORD, nodeA)).status).toBe(200);
    expectLimited(await signIn(bob, PASSWORD, nodeB));
  });

  /** Another Galley node: its own Express app and limiters, on the same database (and Redis). */
  async function secondNode(app: TestApp): Promise<Express> {
    const runner = app.app.db.runner();
    const runtime = () => app.app.records;
    const tokens = new Tokens(runner, runtime);
    const limiters = await createAuthLimiters({ limits, runner, redisUrl: redisUrl ?? null, log: app.app.log });
    const mailer = createMailer({ smtpUrl: null, from: 'Galley Test <galley@example.com>' }, app.app.log);
    cleanups.push(() => limiters.close(), () => mailer.close());
    const http = createHttpApp({
      log: app.app.log,
      records: { runtime, runner, tokens },
      auth: { auth: { runtime, runner, tokens, mailer, app: { name: 'Galley Test', url: TEST_APP_URL }, log: app.app.log }, limiters },
    });
    if (clientIp) http.set('trust proxy', 'loopback');
    return http;
  }
});
