import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, type Plan } from '../../src/db/index.js';
import { createHttpApp, type AdminHttpDeps } from '../../src/http/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { schemaOf } from '../helpers/schema.js';

/**
 * The admin panel's server side (src/http/routes-admin.ts): the superuser-only
 * `GET /api/galley/migrations` on both engines, and the static files at `/_/`.
 *
 * createTestApp does not mount the admin routes, so each suite builds its own Express app with
 * createHttpApp and the test app's records deps (runtime, runner, tokens), plus `admin`.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'admin/dist');
const DIST_INDEX = join(DIST, 'index.html');
const CI = Boolean(process.env['CI']);
const distMissing = !existsSync(DIST_INDEX);
const log = pino({ level: process.env['GALLEY_TEST_LOG'] ?? 'silent' });

if (distMissing && CI) {
  describe('admin static files', () => {
    it('has a built admin panel (CI must build it)', () => {
      expect.fail(`${DIST_INDEX} does not exist: CI builds admin/dist in npm ci (npm run build:admin).`);
    });
  });
} else if (distMissing) {
  console.warn(`[admin routes] dist-dependent cases skipped: ${DIST_INDEX} does not exist (run npm run build:admin). Set CI=1 to make this a failure.`);
}

/** An Express app with the admin routes over a test app's records deps. */
function adminHttp(t: TestApp, admin: AdminHttpDeps): Express {
  return createHttpApp({
    log,
    records: { runtime: () => t.app.records, runner: t.app.db.runner(), tokens: t.tokens },
    admin,
  });
}

/** The plan `galley serve` computes for the endpoint: the running schema, never applied. */
const livePlan = (t: TestApp) => async (): Promise<Plan> => (await migrate(t.app.db, t.app.schema, { apply: false, allowDestructive: false })).plan;

/** A `users` record signed in through the API (auth-with-password on the test app's own routes). */
async function userToken(t: TestApp): Promise<string> {
  const su = await t.superuserToken();
  const email = `u${Date.now()}${Math.random().toString(36).slice(2, 6)}@example.com`;
  const made = await request(t.http).post('/api/collections/users/records').set('Authorization', su).send({ email, password: 'password123', passwordConfirm: 'password123', name: 'U' });
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  const auth = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: email, password: 'password123' });
  expect(auth.status, JSON.stringify(auth.body)).toBe(200);
  return String(auth.body.token);
}

const BASE = { name: 'notes', type: 'base', listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null };
const NOTES_V1 = { ...BASE, fields: [{ name: 'title', type: 'text', max: 100 }, { name: 'body', type: 'text', max: 1000 }], indexes: [] };
/** v1 plus a field and an index: safe steps. */
const NOTES_V2 = { ...NOTES_V1, fields: [...NOTES_V1.fields, { name: 'rank', type: 'number' }], indexes: ['CREATE INDEX idx_notes_title ON notes (title)'] };
/** v1 without `body`: a destructive step, with what it would lose once rows hold values. */
const NOTES_V3 = { ...NOTES_V1, fields: [NOTES_V1.fields[0]!] };
const USERS = { name: 'users', type: 'auth', listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'name', type: 'text', max: 100 }] };

interface StepJson {
  kind: string;
  risk: string;
  target: string;
  summary: string;
  sql: string[];
  loss?: string;
}

describe.each(DIALECTS)('GET /api/galley/migrations (%s)', (dialect) => {
  let t: TestApp;
  let live: Express;
  let su: string;

  beforeAll(async () => {
    t = await createTestApp(dialect, [USERS, NOTES_V1]);
    live = adminHttp(t, { distDir: DIST, pendingPlan: livePlan(t) });
    su = await t.superuserToken();
  });
  afterAll(async () => t?.close());

  it('401 for a guest, 403 for a users token (PocketBase error bodies)', async () => {
    const guest = await request(live).get('/api/galley/migrations');
    expect(guest.status).toBe(401);
    expect(guest.headers['content-type']).toMatch(/application\/json/);
    expect(guest.body).toMatchObject({ status: 401, message: expect.any(String), data: {} });
    expect(guest.body).not.toHaveProperty('steps');

    const bogus = await request(live).get('/api/galley/migrations').set('Authorization', 'not-a-token');
    expect(bogus.status).toBe(401);

    const user = await request(live).get('/api/galley/migrations').set('Authorization', await userToken(t));
    expect(user.status).toBe(403);
    expect(user.body).toMatchObject({ status: 403, message: expect.any(String), data: {} });
    expect(user.body).not.toHaveProperty('steps');
  });

  it('200 for a superuser: no steps and no drift on an up-to-date database', async () => {
    const res = await request(live).get('/api/galley/migrations').set('Authorization', su);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual({ steps: [], drift: [], notes: expect.any(Array) });
    for (const note of res.body.notes as unknown[]) expect(typeof note).toBe('string');
    // The plan's checksum is internal: the endpoint shows steps, drift and notes only.
    expect(Object.keys(res.body).sort()).toEqual(['drift', 'notes', 'steps']);
  });

  it('a pending plan with safe steps: kind, risk, target, summary and SQL per step; nothing is applied', async () => {
    const changed = schemaOf(USERS, NOTES_V2);
    const http = adminHttp(t, { distDir: DIST, pendingPlan: async () => (await migrate(t.app.db, changed, { apply: false, allowDestructive: false })).plan });
    const expected = (await migrate(t.app.db, changed, { apply: false, allowDestructive: false })).plan;
    expect(expected.steps.length).toBeGreaterThan(0);

    const res = await request(http).get('/api/galley/migrations').set('Authorization', su);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const steps = res.body.steps as StepJson[];
    expect(steps).toEqual(expected.steps.map(({ kind, risk, target, summary, sql, loss }) => ({ kind, risk, target, summary, sql, ...(loss ? { loss } : {}) })));
    for (const step of steps) {
      expect(Object.keys(step).sort()).toEqual(['kind', 'risk', 'sql', 'summary', 'target']);
      expect(step.kind).toMatch(/^[a-z_]+$/);
      expect(['safe', 'rewrite', 'destructive']).toContain(step.risk);
      expect(step.summary.length).toBeGreaterThan(0);
      expect(step.sql.length).toBeGreaterThan(0);
      for (const sql of step.sql) expect(typeof sql).toBe('string');
    }
    const kinds = steps.map((s) => s.kind);
    expect(kinds).toContain('add_column');
    expect(kinds).toContain('create_index');
    const add = steps.find((s) => s.kind === 'add_column')!;
    expect(add.risk).toBe('safe');
    expect(add.summary).toContain('rank');
    expect(add.sql.join('\n')).toMatch(/rank/);
    expect(steps.find((s) => s.kind === 'create_index')!.sql.join('\n')).toMatch(/idx_notes_title/);
    expect(res.body.drift).toEqual([]);

    // Reading the plan changed nothing: the running schema is still up to date, and asking again gives the same steps.
    const still = await request(live).get('/api/galley/migrations').set('Authorization', su);
    expect(still.body.steps).toEqual([]);
    const again = await request(http).get('/api/galley/migrations').set('Authorization', su);
    expect(again.body.steps).toEqual(steps);
    // The guards hold on a non-empty plan too.
    expect((await request(http).get('/api/galley/migrations')).status).toBe(401);
  });

  it('a destructive step carries what it would lose', async () => {
    await t.seed('notes', { title: 'kept', body: 'lost text' });
    const dropped = schemaOf(USERS, NOTES_V3);
    const http = adminHttp(t, { distDir: DIST, pendingPlan: async () => (await migrate(t.app.db, dropped, { apply: false, allowDestructive: false })).plan });
    const res = await request(http).get('/api/galley/migrations').set('Authorization', su);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const steps = res.body.steps as StepJson[];
    const destructive = steps.filter((s) => s.risk === 'destructive');
    expect(destructive.length, JSON.stringify(steps)).toBeGreaterThan(0);
    for (const s of destructive) {
      expect(s.loss, JSON.stringify(s)).toEqual(expect.any(String));
      expect(s.sql.length).toBeGreaterThan(0);
    }
    expect(destructive.map((s) => `${s.summary} ${s.target} ${s.loss}`).join('\n')).toMatch(/body/);
    // Steps without a loss do not carry the key at all.
    for (const s of steps.filter((x) => !x.loss)) expect(s).not.toHaveProperty('loss');
    // Nothing was dropped.
    const rows = await t.app.db.runner().all('SELECT "body" FROM "notes"', []);
    expect(rows.map((r) => r['body'])).toEqual(['lost text']);
  });

  it('a failing plan is a JSON 500 without internals, not a crash', async () => {
    const http = adminHttp(t, {
      distDir: DIST,
      pendingPlan: async () => {
        throw new Error('secret internal detail');
      },
    });
    const res = await request(http).get('/api/galley/migrations').set('Authorization', su);
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ status: 500, message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
    // A guest still gets 401 (the plan is never computed before the superuser check).
    expect((await request(http).get('/api/galley/migrations')).status).toBe(401);
  });
});

/** GET with the path sent byte for byte (no URL normalisation on the client side). */
function rawGet(server: Server, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return new Promise((done, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const PACKAGE_JSON = readFileSync(join(ROOT, 'package.json'), 'utf8');
const TRAVERSALS = [
  '/_/../package.json',
  '/_/%2e%2e/package.json',
  '/_/%2E%2E/package.json',
  '/_/assets/..%2f..%2fpackage.json',
  '/_/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
  '/_/..%5c..%5cpackage.json',
  '/_/assets/../../package.json',
  '/_//../package.json',
  '/_/%252e%252e/package.json',
];

describe('admin static files at /_/', () => {
  let t: TestApp;
  let http: Express;
  let server: Server;
  let emptyDist: string;
  let bare: Express;

  beforeAll(async () => {
    t = await createTestApp('sqlite', [USERS, NOTES_V1]);
    http = adminHttp(t, { distDir: DIST, pendingPlan: livePlan(t) });
    server = await new Promise<Server>((done) => {
      const s = createServer(http).listen(0, '127.0.0.1', () => done(s));
    });
    // A dist folder without index.html (an assets folder alone is not a build).
    emptyDist = mkdtempSync(join(tmpdir(), 'galley-admin-dist-'));
    mkdirSync(join(emptyDist, 'assets'));
    writeFileSync(join(emptyDist, 'assets', 'stale.js'), 'console.log(1)\n');
    bare = adminHttp(t, { distDir: emptyDist, pendingPlan: livePlan(t) });
  });
  afterAll(async () => {
    if (server) await new Promise((r) => server.close(() => r(null)));
    if (emptyDist) rmSync(emptyDist, { recursive: true, force: true });
    await t?.close();
  });

  it('/_ redirects (301) to /_/, with or without a build', async () => {
    for (const app of [http, bare]) {
      const res = await request(app).get('/_').redirects(0);
      expect(res.status).toBe(301);
      expect(res.headers['location']).toBe('/_/');
    }
  });

  it('without index.html, /_/ answers 503 telling to run npm run build; no 500 anywhere', async () => {
    const res = await request(bare).get('/_/').redirects(0);
    expect(res.status).toBe(503);
    expect(res.text).toContain('npm run build');
    // No half-served build: other paths under /_/ are plain JSON 404s.
    const asset = await request(bare).get('/_/assets/stale.js').redirects(0);
    expect(asset.status).toBe(404);
    expect(asset.body).toMatchObject({ status: 404, message: expect.any(String) });
    // The API is unaffected.
    expect((await request(bare).get('/api/galley/migrations')).status).toBe(401);
  });

  describe.skipIf(distMissing)('with the built panel (admin/dist)', () => {
    it('/_/ is index.html, revalidated on every load', async () => {
      const res = await request(http).get('/_/').redirects(0);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.text).toBe(readFileSync(DIST_INDEX, 'utf8'));
      expect(res.text).toMatch(/<script[^>]+src="\/_\/assets\/[^"]+\.js"/);
      // PocketBase's default headers apply to the panel as well.
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    });

    it('every asset index.html references is served, immutable, with the right content type', async () => {
      const html = readFileSync(DIST_INDEX, 'utf8');
      const refs = [...html.matchAll(/(?:src|href)="(\/_\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(refs.some((r) => r.endsWith('.js'))).toBe(true);
      for (const ref of refs) {
        const res = await request(http).get(ref).redirects(0);
        expect(res.status, ref).toBe(200);
        expect(res.headers['cache-control'], ref).toMatch(/immutable/);
        expect(res.headers['cache-control'], ref).toMatch(/max-age=31536000/);
        if (ref.endsWith('.js')) expect(res.headers['content-type'], ref).toMatch(/^(text|application)\/javascript/);
        if (ref.endsWith('.css')) expect(res.headers['content-type'], ref).toMatch(/^text\/css/);
      }
      // And every file in assets/ (not only the referenced ones).
      for (const file of readdirSync(join(DIST, 'assets'))) {
        const res = await request(http).get(`/_/assets/${file}`).buffer(true).parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
        expect(res.status, file).toBe(200);
        expect(Buffer.compare(res.body as Buffer, readFileSync(join(DIST, 'assets', file))), file).toBe(0);
      }
    });

    it('a missing asset is a JSON 404, never index.html nor a 500', async () => {
      for (const path of ['/_/assets/nope-123.js', '/_/assets/', '/_/nope.txt', '/_/assets/nope/deeper.css']) {
        const res = await request(http).get(path).redirects(0);
        expect(res.status, path).toBe(404);
        expect(res.headers['content-type'], path).toMatch(/application\/json/);
        expect(res.body, path).toMatchObject({ status: 404, message: expect.any(String), data: {} });
        expect(res.headers['cache-control'] ?? '', path).not.toMatch(/immutable/);
      }
    });

    it('path traversal never serves a file outside admin/dist', async () => {
      for (const path of TRAVERSALS) {
        for (const res of [await request(http).get(path).redirects(0), await rawGet(server, path)]) {
          const text = 'text' in res ? res.text : res.body;
          expect(res.status, path).not.toBe(200);
          expect(res.status, path).toBeLessThan(500);
          expect(text, path).not.toContain('"devDependencies"');
          expect(text, path).not.toBe(PACKAGE_JSON);
        }
      }
    });
  });
});
