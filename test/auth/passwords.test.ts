import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyNothing, verifyPassword } from '../../src/passwords/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

describe('password hashing', () => {
  it('hashes with argon2id in PHC format, salted, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword('correct horsf', a)).toEqual({ ok: false, needsRehash: false });
  });

  it('verifies PocketBase bcrypt hashes and asks for a rehash', async () => {
    const legacy = await bcryptHash('from pocketbase', 4);
    expect(await verifyPassword('from pocketbase', legacy)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword('wrong', legacy)).toEqual({ ok: false, needsRehash: false });
  });

  it('flags argon2 hashes with other parameters for a rehash', async () => {
    const { hash } = await import('@node-rs/argon2');
    const weaker = await hash('pw', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(await verifyPassword('pw', weaker)).toEqual({ ok: true, needsRehash: true });
  });

  it('refuses empty, unknown and malformed stored hashes without throwing', async () => {
    for (const stored of ['', 'plain', '$2b$10$short', '$argon2id$v=19$broken', '$scrypt$N=1$x$y']) {
      expect(await verifyPassword('pw', stored), stored).toEqual({ ok: false, needsRehash: false });
    }
    expect(await verifyNothing('anything')).toBe(false);
  });
});

describe.each(DIALECTS)('passwords through the API (%s)', (dialect) => {
  let t: TestApp;
  const lines: string[] = [];
  const SECRET = 'Unmistakable-Secret-42';
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    t = await createTestApp(dialect, undefined, { log: pino({ level: 'trace' }, sink) });
  });
  afterAll(async () => t?.close());

  it('rehashes an imported bcrypt hash at the next sign-in, keeping tokens valid', async () => {
    const user = await t.seed('users', { email: 'legacy@example.com', password: 'placeholder1', passwordConfirm: 'placeholder1' });
    const runner = t.app.db.runner();
    await runner.run('UPDATE "users" SET "password" = ? WHERE "id" = ?', [await bcryptHash('imported-pass', 4), user['id']]);
    const before = (await runner.all('SELECT "tokenKey" FROM "users" WHERE "id" = ?', [user['id']]))[0]!['tokenKey'];

    const first = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: 'legacy@example.com', password: 'imported-pass' });
    expect(first.status, first.text).toBe(200);
    const row = (await runner.all('SELECT "password", "tokenKey" FROM "users" WHERE "id" = ?', [user['id']]))[0]!;
    expect(String(row['password'])).toMatch(/^\$argon2id\$/);
    expect(row['tokenKey']).toBe(before); // a rehash is not a password change: tokens survive
    const list = await request(t.http).get('/api/collections/users/records').set('Authorization', first.body.token);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([user['id']]);

    const second = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: 'legacy@example.com', password: 'imported-pass' });
    expect(second.status).toBe(200);
    const wrong = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: 'legacy@example.com', password: 'imported-pasS' });
    expect(wrong.status).toBe(400);
  });

  it('enforces the password field minimum on create and never returns or logs the password', async () => {
    const short = await request(t.http).post('/api/collections/users/records').send({ email: 's@example.com', password: 'short', passwordConfirm: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.data.password.code).toBe('validation_min_text_constraint');
    // moderators ask for 10 characters
    const su = await t.superuserToken();
    const mod = await request(t.http).post('/api/collections/moderators/records').set('Authorization', su).send({ email: 'm@example.com', password: 'ninechars', passwordConfirm: 'ninechars' });
    expect(mod.status).toBe(400);
    expect(mod.body.data.password.code).toBe('validation_min_text_constraint');

    const created = await request(t.http).post('/api/collections/users/records').send({ email: 'p@example.com', password: SECRET, passwordConfirm: SECRET });
    expect(created.status, created.text).toBe(200);
    const signedIn = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: 'p@example.com', password: SECRET });
    expect(signedIn.status).toBe(200);
    const failed = await request(t.http).post('/api/collections/users/auth-with-password').send({ identity: 'p@example.com', password: `${SECRET}x` });
    expect(failed.status).toBe(400);
    for (const res of [created, signedIn, failed]) {
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain('argon2');
      expect(res.text).not.toContain('tokenKey');
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});
