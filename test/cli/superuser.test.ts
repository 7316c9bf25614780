import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli, startServe, type CliResult, type ServeHandle } from '../helpers/cli.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

/**
 * `galley superuser upsert|delete` and the first-start install link, each against a real
 * `galley serve` child process on the same database (SQLite file or PostgreSQL schema).
 */

type Json = Record<string, unknown>;

const NOTES: Json = { name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] };
const SUPERUSERS = '/api/collections/_superusers';
/** Each test spawns several CLI processes (tsx start-up is seconds on a busy machine). */
const SLOW = 240_000;
const FORBIDDEN = { status: 403, code: 'forbidden', message: 'Only superusers can perform this action.', data: {} };

/** Temporary project folders, removed after the file's tests. */
const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

/** A project folder with one collection file (so `collections/` exists); `_superusers` is Galley's own. */
function projectDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'galley-superuser-'));
  folders.push(dir);
  mkdirSync(join(dir, 'collections'));
  writeFileSync(join(dir, 'collections/notes.json'), `${JSON.stringify(NOTES, null, 2)}\n`);
  return dir;
}

async function post(url: string, body: Json, authorization?: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(authorization === undefined ? {} : { Authorization: authorization }) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** POST auth-with-password on `_superusers`: the status, and the token on success. */
async function signIn(s: ServeHandle, identity: string, password: string): Promise<{ status: number; token: string | null; body: Json }> {
  const r = await post(`${s.url}${SUPERUSERS}/auth-with-password`, { identity, password });
  return { status: r.status, token: typeof r.body['token'] === 'string' ? r.body['token'] : null, body: r.body };
}

/** POST auth-refresh with the token: 200 while the token lives, 401 once it is dead. */
async function refreshStatus(s: ServeHandle, token: string): Promise<number> {
  return (await post(`${s.url}${SUPERUSERS}/auth-refresh`, {}, token)).status;
}

describe.each(DIALECTS)('galley superuser (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  let dir = '';
  const servers: ServeHandle[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await t?.drop();
    t = undefined;
  });

  async function fresh(): Promise<TestDatabase> {
    dir = projectDir();
    t = await freshDatabase(dialect);
    return t;
  }
  const env = () => ({ DATABASE_URL: t!.url });
  const superuser = (...args: string[]): Promise<CliResult> => runCli(['superuser', ...args], { cwd: dir, env: env() });
  const serve = async (): Promise<ServeHandle> => {
    const s = await startServe({ cwd: dir, env: env() });
    servers.push(s);
    return s;
  };
  const stored = async (): Promise<Json[]> =>
    t!.db.knex('_superusers').select('email', 'password', 'tokenKey').orderBy('email') as Promise<Json[]>;

  it('upsert creates, then updates (old password and old tokens die); delete removes; an unknown email exits 2', async () => {
    await fresh();
    const created = await superuser('upsert', 'root@example.com', 'first-pass-1');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toBe('Superuser root@example.com created.\n');

    const s = await serve();
    // A superuser exists already: no install link at start.
    expect(s.logs().filter((l) => 'installUrl' in l)).toEqual([]);

    const first = await signIn(s, 'root@example.com', 'first-pass-1');
    expect(first.status).toBe(200);
    expect(first.body['record']).toMatchObject({ email: 'root@example.com', collectionName: '_superusers' });
    expect(first.token).toEqual(expect.any(String));
    expect(await refreshStatus(s, first.token!)).toBe(200);
    // The token carries superuser rights: the _superusers list is open to it, and closed to a guest.
    expect((await fetch(`${s.url}${SUPERUSERS}/records`, { headers: { Authorization: first.token! } })).status).toBe(200);
    expect((await fetch(`${s.url}${SUPERUSERS}/records`)).status).toBe(403);

    // Upsert again while the server runs: the password is reset and the record's tokenKey rotated.
    const updated = await superuser('upsert', 'root@example.com', 'second-pass-2');
    expect(updated).toMatchObject({ code: 0, stdout: 'Superuser root@example.com updated.\n', stderr: '' });
    expect(await stored()).toHaveLength(1);
    expect((await signIn(s, 'root@example.com', 'first-pass-1')).status).toBe(400);
    expect(await refreshStatus(s, first.token!)).toBe(401);
    const second = await signIn(s, 'root@example.com', 'second-pass-2');
    expect(second.status).toBe(200);
    expect(await refreshStatus(s, second.token!)).toBe(200);

    // The only superuser cannot be deleted (as in PocketBase): nobody could sign in to the panel again.
    const last = await superuser('delete', 'root@example.com');
    expect(last).toMatchObject({ code: 2, stdout: '', stderr: "You can't delete the only existing superuser.\n" });
    expect(await stored()).toHaveLength(1);

    expect(await superuser('upsert', 'other@example.com', 'other-pass-3')).toMatchObject({ code: 0 });
    const deleted = await superuser('delete', 'root@example.com');
    expect(deleted).toMatchObject({ code: 0, stdout: 'Superuser root@example.com deleted.\n', stderr: '' });
    expect(await stored()).toHaveLength(1);
    expect((await signIn(s, 'root@example.com', 'second-pass-2')).status).toBe(400);
    expect(await refreshStatus(s, second.token!)).toBe(401);

    const unknown = await superuser('delete', 'root@example.com');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('No superuser with the email "root@example.com".\n');
  }, SLOW);

  it('a password shorter than 8 characters, or a bad email, exits 2 naming the field and changes nothing', async () => {
    await fresh();
    const tooShort = await superuser('upsert', 'new@example.com', 'short');
    expect(tooShort.code).toBe(2);
    expect(tooShort.stdout).toBe('');
    expect(tooShort.stderr).toMatch(/\bpassword\b/);
    expect(tooShort.stderr).toMatch(/at least 8/);
    expect(await stored()).toEqual([]);

    expect((await superuser('upsert', 'keep@example.com', 'long-enough-1')).code).toBe(0);
    const before = await stored();
    const resetTooShort = await superuser('upsert', 'keep@example.com', '1234567');
    expect(resetTooShort.code).toBe(2);
    expect(resetTooShort.stderr).toMatch(/\bpassword\b/);
    // Neither the hash nor the tokenKey moved: the old password and old tokens still hold.
    expect(await stored()).toEqual(before);

    const badEmail = await superuser('upsert', 'not-an-email', 'long-enough-1');
    expect(badEmail.code).toBe(2);
    expect(badEmail.stderr).toMatch(/\bemail\b/);
    expect(await stored()).toEqual(before);
  }, SLOW);

  it('the install link: logged on a fresh database, creates the first superuser once, then is spent', async () => {
    await fresh();
    const s = await serve();
    const line = await s.waitForLog((l) => typeof l['installUrl'] === 'string');
    const installUrl = String(line['installUrl']);
    expect(installUrl.startsWith(`${s.url}/_/#/pbinstal/`)).toBe(true);
    expect(line.msg).toContain(installUrl);
    expect(line.level).toBe(40);
    const token = installUrl.slice(`${s.url}/_/#/pbinstal/`.length);
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const body = { email: 'first@example.com', password: 'install-pass-1', passwordConfirm: 'install-pass-1' };
    // A garbage token, the install token with its signature altered, and no token are refused, even while no superuser exists.
    expect(await post(`${s.url}${SUPERUSERS}/records`, body, 'garbage.token.here')).toEqual({ status: 403, body: FORBIDDEN });
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(await post(`${s.url}${SUPERUSERS}/records`, body, tampered)).toEqual({ status: 403, body: FORBIDDEN });
    expect(await post(`${s.url}${SUPERUSERS}/records`, body)).toEqual({ status: 403, body: FORBIDDEN });
    expect(await stored()).toEqual([]);

    const made = await post(`${s.url}${SUPERUSERS}/records`, body, token);
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ email: 'first@example.com', collectionName: '_superusers' });
    expect(made.body).not.toHaveProperty('password');
    expect((await signIn(s, 'first@example.com', 'install-pass-1')).status).toBe(200);

    // Spent: a superuser exists now, so the same token grants nothing.
    const again = await post(`${s.url}${SUPERUSERS}/records`, { ...body, email: 'second@example.com' }, token);
    expect(again).toEqual({ status: 403, body: FORBIDDEN });
    expect((await stored()).map((r) => r['email'])).toEqual(['first@example.com']);

    // A restart on the same database logs no install link.
    await Promise.all(servers.splice(0).map((x) => x.stop()));
    const restarted = await serve();
    expect(restarted.logs().some((l) => typeof l.msg === 'string' && l.msg.includes('listening'))).toBe(true);
    expect(restarted.logs().filter((l) => 'installUrl' in l || (typeof l.msg === 'string' && l.msg.includes('pbinstal')))).toEqual([]);
  }, SLOW);

  it('logs the install link at every start while no superuser exists', async () => {
    await fresh();
    for (let start = 1; start <= 2; start++) {
      const s = await serve();
      const line = await s.waitForLog((l) => typeof l['installUrl'] === 'string');
      expect(String(line['installUrl']), `start ${start}`).toContain('/_/#/pbinstal/');
      await Promise.all(servers.splice(0).map((x) => x.stop()));
    }
  }, SLOW);
});

describe('galley superuser: usage errors exit 2', () => {
  const dir = projectDir();
  // No database is opened: commander refuses the arguments first.
  const cases: [string, string[], RegExp][] = [
    ['upsert without a password', ['upsert', 'a@example.com'], /missing required argument 'password'/],
    ['upsert without arguments', ['upsert'], /missing required argument 'email'/],
    ['delete without an email', ['delete'], /missing required argument 'email'/],
    ['an unknown action', ['create', 'a@example.com', 'password123'], /unknown command 'create'/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await runCli(['superuser', ...args], { cwd: dir, env: { DATABASE_URL: `sqlite:${join(dir, 'never.db')}` } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  }, SLOW);
});
