import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { runCli, startServe, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { eventually } from '../helpers/wait.js';

type Json = Record<string, unknown>;

const POSTS: Json = { name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }] };
const NOTES: Json = { name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] };
const INVALID_BODY = { status: 400, code: 'invalid_body', message: 'Failed to load the submitted data due to invalid formatting.', data: {} };

function writeCollections(dir: string, ...collections: Json[]): void {
  const folder = join(dir, 'collections');
  mkdirSync(folder, { recursive: true });
  for (const c of collections) writeFileSync(join(folder, `${String(c['name'])}.json`), `${JSON.stringify(c, null, 2)}\n`);
}

async function columns(db: Database, table: string): Promise<string[]> {
  return Object.keys(await db.knex(table).columnInfo()).filter((c) => c !== '_galley_version').sort();
}

describe.each(DIALECTS)('galley serve (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  let server: ServeHandle | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.stop();
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    [server, t, dir] = [undefined, undefined, undefined];
  });

  /** A project with POSTS, a fresh database, and `galley serve` running on it. */
  async function serve(args: string[] = []): Promise<ServeHandle> {
    dir = mkdtempSync(join(tmpdir(), 'galley-serve-'));
    writeCollections(dir, POSTS);
    t = await freshDatabase(dialect);
    server = await startServe({ cwd: dir, args, env: { DATABASE_URL: t.url, GALLEY_SHUTDOWN_TIMEOUT_MS: '20000' } });
    return server;
  }

  it('migrates, then answers GET /api/health with a request id, logging JSON lines', async () => {
    const s = await serve();
    expect(await columns(t!.db, 'posts')).toEqual(['id', 'title']);
    // posts and _superusers (2 tables, 2 indexes); _mfas, _otps, _externalAuths, _authOrigins (4 tables, 5 indexes)
    expect(s.logs().map((l) => l.msg)).toContain('migrated: 13 step(s)');

    const res = await fetch(`${s.url}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ message: 'API is healthy.', code: 200, data: {} });
    const reqId = res.headers.get('x-request-id');
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);

    const line = await s.waitForLog((l) => l.reqId === reqId);
    expect(line).toMatchObject({ msg: 'request', method: 'GET', url: '/api/health', status: 200, level: 30, service: 'galley' });

    const given = await fetch(`${s.url}/api/health`, { headers: { 'X-Request-Id': 'trace-abc.1' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.1');
    await s.waitForLog((l) => l.reqId === 'trace-abc.1' && l.status === 200);
    // Every line of stdout is JSON (logs() throws otherwise).
    expect(s.logs().length).toBeGreaterThanOrEqual(4);
  });

  it('an unknown route answers 404 with the JSON error body', async () => {
    const s = await serve();
    const res = await fetch(`${s.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await res.json()).toEqual({ status: 404, code: 'not_found', message: "The requested resource wasn't found.", data: {} });
  });

  it('a malformed JSON body answers 400, not 500', async () => {
    const s = await serve();
    const res = await fetch(`${s.url}/api/collections/posts/records`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"title": ' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(INVALID_BODY);
    expect(s.logs().filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });

  it('SIGTERM lets an in-flight request finish, then exits 0 with "stopped"', async () => {
    const s = await serve();
    // Hold a request open by sending its body slowly.
    const [head, tail] = ['{"title":', '"ok"}'];
    const length = String(Buffer.byteLength(head + tail));
    const req = request(`${s.url}/api/collections/posts/records`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': length, 'X-Request-Id': 'slow-1' } });
    const response = new Promise<{ status: number; body: string }>((done, fail) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
    });
    req.write(head);
    await new Promise((r) => setTimeout(r, 300));

    s.child.kill('SIGTERM');
    await s.waitForLog((l) => l.msg === 'shutting down: finishing in-flight requests');
    await new Promise((r) => setTimeout(r, 500));
    expect(s.child.exitCode).toBeNull();
    expect(s.logs().map((l) => l.msg)).not.toContain('stopped');

    req.end(tail);
    const answered = await response;
    // The body arrived in full and was read: the (locked) createRule then answers 403.
    expect(answered.status).toBe(403);
    expect(JSON.parse(answered.body)).toEqual({ status: 403, code: 'forbidden', message: 'Only superusers can perform this action.', data: {} });
    expect(await s.exited).toEqual({ code: 0, signal: null });
    const msgs = s.logs().map((l) => l.msg);
    expect(msgs.at(-1)).toBe('stopped');
    expect(s.logs().find((l) => l.reqId === 'slow-1')).toMatchObject({ status: 403, method: 'POST' });
  });

  it('SIGINT with nothing in flight exits 0 promptly', async () => {
    const s = await serve();
    s.child.kill('SIGINT');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.logs().map((l) => l.msg).slice(-2)).toEqual(['shutting down: finishing in-flight requests', 'stopped']);
    expect(s.stderr()).toBe('');
  });

  it('refuses a destructive plan with exit 2 and the message', async () => {
    dir = mkdtempSync(join(tmpdir(), 'galley-serve-'));
    writeCollections(dir, POSTS, NOTES);
    t = await freshDatabase(dialect);
    expect((await runCli(['migrate'], { cwd: dir, env: { DATABASE_URL: t.url } })).code).toBe(0);
    await t.db.knex('notes').insert({ id: 'n00000000000001', body: 'keep me' });
    rmSync(join(dir, 'collections/notes.json'));

    const r = await runCli(['serve', '--http', '127.0.0.1:0'], { cwd: dir, env: { DATABASE_URL: t.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'The migration plan has destructive steps:\n  - drop table notes: would lose 1 row of notes\nReview them with `galley migrate --plan`, then run `galley migrate --allow-destructive` to apply them.\n',
    );
    expect(r.stdout).not.toContain('listening');
    expect(await t.db.knex('notes').select('body')).toEqual([{ body: 'keep me' }]);
  });

  it('--dev re-plans when a collection file changes', async () => {
    const s = await serve(['--dev']);
    expect(await columns(t!.db, 'posts')).toEqual(['id', 'title']);
    writeCollections(dir!, { ...POSTS, fields: [...(POSTS['fields'] as Json[]), { name: 'subtitle', type: 'text' }] });
    await s.waitForLog((l) => l.msg === 'migrated: 1 step(s)');
    expect(await columns(t!.db, 'posts')).toEqual(['id', 'subtitle', 'title']);

    // An invalid edit is reported and the server keeps serving.
    writeFileSync(join(dir!, 'collections/posts.json'), '{"name": "posts",');
    const error = await s.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('collections not applied:'));
    expect(error.msg).toBe('collections not applied: collections/posts.json: /: invalid JSON at line 1, column 18: expected a property name in double quotes, found end of input');
    expect((await fetch(`${s.url}/api/health`)).status).toBe(200);

    // A destructive edit is refused with the same message as at start; nothing is dropped.
    writeCollections(dir!, { ...POSTS, fields: [] });
    await t!.db.knex('posts').insert({ id: 'p00000000000001', title: 'kept', subtitle: 'kept' });
    await eventually(async () => s.logs().some((l) => typeof l.msg === 'string' && l.msg.includes('The migration plan has destructive steps')));
    expect(await columns(t!.db, 'posts')).toEqual(['id', 'subtitle', 'title']);
  });
});
