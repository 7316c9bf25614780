/**
 * PocketBase's system collections (issue 10, item 10): `GET /api/collections` lists `_mfas`,
 * `_otps`, `_externalAuths` and `_authOrigins` as PocketBase does (checked against a real export),
 * their records API answers (`collection('_externalAuths').getList()` is an empty list), and `_otps` /
 * `_mfas` are where Galley keeps OTP codes and MFA sessions, readable by their owner as in PocketBase.
 */
import { readFileSync } from 'node:fs';
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSystemTables, migrate } from '../../src/db/index.js';
import { buildSchema, type Schema } from '../../src/schema/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS, freshDatabase } from '../helpers/dialects.js';
import { recordToken } from '../helpers/scenario.js';

type Json = Record<string, unknown>;
const SYSTEM = ['_mfas', '_otps', '_externalAuths', '_authOrigins'];
/** A real v0.23+ export that carries PocketBase's system collections (see SOURCES.md there). */
const EXPORT = JSON.parse(readFileSync(new URL('../fixtures/pocketbase-schemas/PocketTogether__pocket-chat__pocketbase_pb_schema.json', import.meta.url), 'utf8')) as Json[];

const fieldShape = (f: Json) => ({ id: f['id'], name: f['name'], type: f['type'], system: f['system'], hidden: f['hidden'], required: f['required'] });

describe.each(DIALECTS)('PocketBase system collections (%s)', (dialect) => {
  let t: TestApp;
  let baseURL: string;
  let root: string;
  let annToken: string;
  let bobToken: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    baseURL = await t.listen();
    root = await t.superuserToken();
    const PW = { password: 'password123', passwordConfirm: 'password123' };
    annToken = await recordToken(t, 'users', String((await t.seed('users', { email: 'ann@example.com', ...PW }))['id']));
    bobToken = await recordToken(t, 'users', String((await t.seed('users', { email: 'bob@example.com', ...PW }))['id']));
  });
  afterAll(async () => t?.close());

  const sdk = (token?: string) => {
    const pb = new PocketBase(baseURL);
    pb.autoCancellation(false);
    if (token) pb.authStore.save(token, null);
    return pb;
  };

  it('GET /api/collections lists them with PocketBase\'s ids, rules, fields and indexes', async () => {
    const all = await sdk(root).collections.getFullList();
    for (const name of SYSTEM) {
      const ours = all.find((c) => c.name === name) as unknown as Json | undefined;
      const theirs = EXPORT.find((c) => c['name'] === name)!;
      expect(ours, name).toBeDefined();
      for (const key of ['id', 'type', 'system', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'indexes']) {
        expect(ours![key], `${name}.${key}`).toEqual(theirs[key]);
      }
      expect((ours!['fields'] as Json[]).map(fieldShape), `${name}.fields`).toEqual((theirs['fields'] as Json[]).map(fieldShape));
    }
  });

  it("collection('_externalAuths').getList() is an empty list, for a superuser and for a user", async () => {
    for (const pb of [sdk(root), sdk(annToken), sdk()]) {
      const list = await pb.collection('_externalAuths').getList();
      expect(list).toMatchObject({ items: [], totalItems: 0, page: 1 });
      expect((await pb.collection('_authOrigins').getList()).items).toEqual([]);
    }
  });

  it('request-otp stores the code in _otps: its owner sees it (without password or sentTo), others do not', async () => {
    const db = t.app.db.runner();
    await db.run(`UPDATE "users" SET "verified" = ? WHERE "email" = ?`, [dialect === 'sqlite' ? 1 : true, 'ann@example.com']);
    // the example users collection has OTP off: turn it on for this app
    const users = t.app.records.find('users')!.collection;
    users['otp'] = { enabled: true, duration: 180, length: 6 };
    const { otpId } = await sdk().collection('users').requestOTP('ann@example.com');
    const own = await sdk(annToken).collection('_otps').getFullList();
    expect(own.map((r) => r.id)).toEqual([otpId]);
    expect(own[0]).not.toHaveProperty('password');
    expect(own[0]).not.toHaveProperty('sentTo');
    expect(own[0]).toMatchObject({ collectionRef: users.id, collectionName: '_otps' });
    expect(await sdk(bobToken).collection('_otps').getFullList()).toEqual([]);
    expect((await sdk(root).collection('_otps').getFullList()).map((r) => r.id)).toContain(otpId);
  });
});

describe.each(DIALECTS)('a database created before the system collections (%s)', (dialect) => {
  /** The schema as the previous version built it: no _mfas/_otps/_externalAuths/_authOrigins. */
  function withoutSystem(schema: Schema): Schema {
    const collections = schema.collections.filter((c) => !SYSTEM.includes(c.name));
    return { ...schema, collections, byName: new Map(collections.map((c) => [c.name.toLowerCase(), c])), byId: new Map(collections.map((c) => [c.id, c])) };
  }

  it('migrates with safe steps that create their tables, then has nothing to do', async () => {
    const schema = buildSchema([{ file: 'collections/notes.json', text: JSON.stringify({ name: 'notes', fields: [{ name: 'title', type: 'text' }] }) }]);
    const t = await freshDatabase(dialect);
    try {
      await migrate(t.db, withoutSystem(schema), { apply: true, allowDestructive: false });
      // what the previous version created next to the collections
      const bigint = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
      await t.db.runner().run(`CREATE TABLE "_galley_otps" ("id" TEXT PRIMARY KEY NOT NULL, "collection_id" TEXT NOT NULL, "record_id" TEXT NOT NULL, "password" TEXT NOT NULL, "sent_to" TEXT NOT NULL DEFAULT '', "attempts" INTEGER NOT NULL DEFAULT 0, "created_at" ${bigint} NOT NULL)`, []);
      await t.db.runner().run(`CREATE TABLE "_galley_mfas" ("id" TEXT PRIMARY KEY NOT NULL, "collection_id" TEXT NOT NULL, "record_id" TEXT NOT NULL, "method" TEXT NOT NULL, "created_at" ${bigint} NOT NULL)`, []);
      await ensureSystemTables(t.db.runner());

      const upgrade = await migrate(t.db, schema, { apply: true, allowDestructive: false });
      expect(upgrade.applied).toBe(true);
      expect(upgrade.plan.steps.filter((s) => s.risk !== 'safe')).toEqual([]);
      expect(upgrade.plan.steps.filter((s) => s.kind === 'create_table').map((s) => s.target).sort()).toEqual([...SYSTEM].sort());
      expect(upgrade.plan.drift).toEqual([]);
      const again = await migrate(t.db, schema, { apply: true, allowDestructive: false });
      expect(again.plan.steps).toEqual([]);
      expect(again.plan.drift).toEqual([]);
    } finally {
      await t.drop();
    }
  });
});
