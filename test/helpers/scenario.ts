/**
 * Table-driven API scenarios in PocketBase's style (`tests.ApiScenario`): each scenario is one HTTP
 * request against a real Galley app (supertest, no network) and its expectations on the status,
 * substrings of the raw body and headers.
 *
 * Unlike PocketBase (a fresh app per scenario), one app is built per `scenarioApp()` call (per
 * engine), seeded once by `fixtures`; scenarios run in order and share it. Scenarios that write
 * should seed what they change in `before` (or use ids nobody else reads).
 *
 * As in PocketBase, a scenario with neither `expectedContent` nor `notExpectedContent` expects an
 * EMPTY body (204, 304, ...).
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DialectName } from '../../src/db/index.js';
import { createTestApp, type TestApp } from './app.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** Who sends the request: nobody, a fresh superuser, a given auth record, or a literal Authorization value. */
export type ScenarioAuth = 'guest' | 'superuser' | { collection: string; id: string } | { token: string };

/** Values a scenario's `before` computes for its own request (ids, ETags, ...). */
export type Vars = Record<string, string>;

/** A value, or a function of the scenario's vars (evaluated after `before`). */
export type Dyn<T> = T | ((vars: Vars) => T);

export type ScenarioBody = Record<string, unknown> | unknown[] | string | Buffer;

export type MultipartPart = { name: string; value: string } | { name: string; file: string | Buffer; filename: string; contentType?: string };

export interface ApiScenario {
  name: string;
  method: HttpMethod;
  url: Dyn<string>;
  /** A plain object/array is sent as JSON; a string or Buffer as raw bytes (Content-Type from `headers`, default application/json). */
  body?: Dyn<ScenarioBody>;
  /** A multipart/form-data body instead of `body`, parts in this order. */
  multipart?: Dyn<MultipartPart[]>;
  headers?: Dyn<Record<string, string>>;
  /** Default: guest. */
  auth?: ScenarioAuth;
  expectedStatus: number;
  /** Substrings of the raw response body, all of which must be present. */
  expectedContent?: Dyn<string[]>;
  /** Substrings of the raw response body that must be absent. */
  notExpectedContent?: Dyn<string[]>;
  /** Patterns the raw body must match. */
  expectedPatterns?: RegExp[];
  /** Response headers (lower-case names): exact text, a pattern, or null for "absent". */
  expectedHeaders?: Record<string, string | RegExp | null>;
  before?(t: TestApp, vars: Vars): unknown;
  /** Extra assertions (the database state, the parsed body, ...). */
  after?(t: TestApp, res: ScenarioResponse, vars: Vars): unknown;
  skip?: boolean;
  only?: boolean;
}

export interface ScenarioResponse {
  status: number;
  /** The raw body, as sent. */
  text: string;
  headers: Record<string, string>;
  /** The body parsed as JSON (fails the test if it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export interface ScenarioAppOptions {
  /** Inline collections (plain objects like collections/*.json); default: the example collections. */
  collections?: Record<string, unknown>[];
  /** Seeds the shared data once, after the app is built. */
  fixtures?(t: TestApp): Promise<void>;
}

export interface ScenarioApp {
  /** The app (available inside tests and hooks, not at definition time). */
  readonly t: TestApp;
  /** An Authorization value for `auth` (tokens are cached per app). */
  authorization(auth: ScenarioAuth | undefined): Promise<string | null>;
  /** Runs one scenario and checks its expectations; returns the response for further checks. */
  run(scenario: ApiScenario): Promise<ScenarioResponse>;
  /** A superuser request helper for hooks: `su(request(t.http).get(...))`. */
  superuser(): Promise<string>;
}

/**
 * Builds one app for the enclosing `describe` (beforeAll/afterAll are registered here) and returns
 * a handle to run scenarios against it.
 */
export function scenarioApp(dialect: DialectName, options: ScenarioAppOptions = {}): ScenarioApp {
  let app: TestApp | null = null;
  let superuserToken: Promise<string> | null = null;
  const recordTokens = new Map<string, Promise<string>>();

  beforeAll(async () => {
    app = await createTestApp(dialect, options.collections);
    await options.fixtures?.(app);
  });
  afterAll(async () => {
    await app?.close();
    app = null;
    superuserToken = null;
    recordTokens.clear();
  });

  const handle: ScenarioApp = {
    get t() {
      if (!app) throw new Error('scenarioApp: the app is only available inside tests and hooks');
      return app;
    },
    superuser() {
      superuserToken ??= handle.t.superuserToken();
      return superuserToken;
    },
    async authorization(auth) {
      if (auth === undefined || auth === 'guest') return null;
      if (auth === 'superuser') return handle.superuser();
      if ('token' in auth) return auth.token;
      const key = `${auth.collection}/${auth.id}`;
      let token = recordTokens.get(key);
      if (!token) {
        token = recordToken(handle.t, auth.collection, auth.id);
        recordTokens.set(key, token);
      }
      return token;
    },
    run: (scenario) => runScenario(handle, scenario),
  };
  return handle;
}

/** An auth token for a stored auth record (signed like a login would). */
export async function recordToken(t: TestApp, collection: string, id: string): Promise<string> {
  const rt = t.app.records.find(collection);
  if (!rt || rt.collection.type !== 'auth') throw new Error(`recordToken: "${collection}" is not an auth collection`);
  const rows = await t.app.db.runner().all(`SELECT "tokenKey" FROM ${rt.table} WHERE "id" = ?`, [id]);
  if (!rows[0]) throw new Error(`recordToken: no ${collection} record "${id}"`);
  return t.tokens.sign(rt, { id, tokenKey: rows[0]['tokenKey'] });
}

/** Registers one `it` per scenario (in order) under the current describe. */
export function defineScenarios(app: ScenarioApp, scenarios: ApiScenario[]): void {
  for (const scenario of scenarios) {
    const test = scenario.skip ? it.skip : scenario.only ? it.only : it;
    const url = typeof scenario.url === 'string' ? scenario.url : '…';
    test(`${scenario.method} ${url.length > 90 ? `${url.slice(0, 89)}…` : url} — ${scenario.name}`, async () => {
      await app.run(scenario);
    });
  }
}

/** `describe(title)` + `defineScenarios`. */
export function scenarioGroup(app: ScenarioApp, title: string, scenarios: ApiScenario[]): void {
  describe(title, () => defineScenarios(app, scenarios));
}

const resolve = <T>(value: Dyn<T>, vars: Vars): T => (typeof value === 'function' ? (value as (v: Vars) => T)(vars) : value);

async function runScenario(app: ScenarioApp, s: ApiScenario): Promise<ScenarioResponse> {
  const t = app.t;
  const vars: Vars = {};
  if (s.before) await s.before(t, vars);
  const url = resolve(s.url, vars);
  const agent = request(t.http);
  let req = agent[s.method.toLowerCase() as 'get'](url);
  const authorization = await app.authorization(s.auth);
  if (authorization) req = req.set('Authorization', authorization);
  const headers = s.headers ? resolve(s.headers, vars) : {};
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);

  if (s.multipart !== undefined) {
    for (const part of resolve(s.multipart, vars)) {
      if ('value' in part) req = req.field(part.name, part.value);
      else req = req.attach(part.name, Buffer.from(part.file), { filename: part.filename, contentType: part.contentType ?? 'application/octet-stream' });
    }
  } else if (s.body !== undefined) {
    const body = resolve(s.body, vars);
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) req = req.set('Content-Type', 'application/json');
      req = req.send(body);
    } else {
      req = req.send(body);
    }
  }

  // Keep the raw bytes whatever the content type: expectations are on the body as sent.
  const res = await req.buffer(true).parse((stream, done) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
  });
  const text = typeof res.body === 'string' ? res.body : '';
  const response: ScenarioResponse = {
    status: res.status,
    text,
    headers: res.headers as Record<string, string>,
    json<T>() {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`expected a JSON body, got ${JSON.stringify(text.slice(0, 300))}`);
      }
    },
  };

  const where = `${s.method} ${url} (${s.name})\nbody: ${text.slice(0, 2000)}`;
  expect(response.status, `status of ${where}`).toBe(s.expectedStatus);
  const expected = s.expectedContent ? resolve(s.expectedContent, vars) : undefined;
  const notExpected = s.notExpectedContent ? resolve(s.notExpectedContent, vars) : undefined;
  if (expected === undefined && notExpected === undefined) {
    expect(text, `expected an empty body: ${where}`).toBe('');
  }
  for (const item of expected ?? []) expect(text.includes(item), `missing ${JSON.stringify(item)} in ${where}`).toBe(true);
  for (const item of notExpected ?? []) expect(text.includes(item), `unexpected ${JSON.stringify(item)} in ${where}`).toBe(false);
  for (const pattern of s.expectedPatterns ?? []) expect(text, `pattern ${pattern} in ${where}`).toMatch(pattern);
  for (const [name, want] of Object.entries(s.expectedHeaders ?? {})) {
    const got = response.headers[name.toLowerCase()];
    if (want === null) expect(got, `header ${name} should be absent: ${where}`).toBeUndefined();
    else if (typeof want === 'string') expect(got, `header ${name}: ${where}`).toBe(want);
    else expect(got, `header ${name}: ${where}`).toMatch(want);
  }
  if (s.after) await s.after(t, response, vars);
  return response;
}
