/**
 * A password field outside an auth collection's `password` (PocketBase's `_otps.password`, or a
 * user's own "pin" field) is validated on its plain value, stored as a hash and never shown. It
 * used to be accepted and dropped.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/passwords/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const lockers = {
  name: 'lockers',
  listRule: '',
  viewRule: '',
  createRule: '',
  updateRule: '',
  fields: [
    { name: 'label', type: 'text' },
    { name: 'pin', type: 'password', min: 4, max: 8, pattern: '^[0-9]+$' },
  ],
};

describe.each(DIALECTS)('password fields of base collections (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, [lockers]);
  });
  afterAll(async () => t?.close());

  async function storedPin(id: string): Promise<string> {
    const rows = await t.app.db.runner().all('SELECT "pin" FROM "lockers" WHERE "id" = ?', [id]);
    return String(rows[0]!['pin']);
  }

  it('stores a hash of the value, and never shows it', async () => {
    const res = await request(t.http).post('/api/collections/lockers/records').send({ label: 'a', pin: '1234' }).expect(200);
    expect(res.body).not.toHaveProperty('pin');
    const hash = await storedPin(res.body.id);
    expect(hash).not.toBe('1234');
    expect((await verifyPassword('1234', hash)).ok).toBe(true);
    const viewed = await request(t.http).get(`/api/collections/lockers/records/${res.body.id}`).set('Authorization', await t.superuserToken()).expect(200);
    expect(viewed.body).not.toHaveProperty('pin');
  });

  it('an update replaces the hash; one without the field keeps it', async () => {
    const { body } = await request(t.http).post('/api/collections/lockers/records').send({ label: 'b', pin: '1111' }).expect(200);
    await request(t.http).patch(`/api/collections/lockers/records/${body.id}`).send({ pin: '22222' }).expect(200);
    const changed = await storedPin(body.id);
    expect((await verifyPassword('22222', changed)).ok).toBe(true);
    await request(t.http).patch(`/api/collections/lockers/records/${body.id}`).send({ label: 'c' }).expect(200);
    expect(await storedPin(body.id)).toBe(changed);
  });

  it.each([
    ['too short', '12', 'validation_min_text_constraint'],
    ['too long', '123456789', 'validation_max_text_constraint'],
    ['not the pattern', 'abcd', 'validation_invalid_format'],
  ])('a plain value %s is a 400 naming the field, and nothing is written', async (_name, pin, code) => {
    const before = (await request(t.http).get('/api/collections/lockers/records').expect(200)).body.totalItems;
    const res = await request(t.http).post('/api/collections/lockers/records').send({ label: 'x', pin }).expect(400);
    expect(res.body.data.pin.code).toBe(code);
    expect((await request(t.http).get('/api/collections/lockers/records').expect(200)).body.totalItems).toBe(before);
  });
});
