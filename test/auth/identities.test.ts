/**
 * Case-insensitive identities (issue 10, item 7): when the unique index of an identity field is
 * `COLLATE NOCASE` (what PocketBase's v0.23 upgrade gives `username`), auth-with-password matches it
 * ignoring ASCII case, on both engines, and the lookup is served by that index (SQLite's NOCASE
 * index; on PostgreSQL the index on lower(column)). Without NOCASE the match stays exact.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { queryDialect, sql } from '../../src/query/index.js';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, scenarioGroup, type ApiScenario } from '../helpers/scenario.js';

const PW = { password: 'password123', passwordConfirm: 'password123' };
const OWN = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: null, deleteRule: null };
const PASSWORD_AUTH = { enabled: true, identityFields: ['email', 'username'] };
const COLLECTIONS = [
  {
    name: 'members',
    type: 'auth',
    ...OWN,
    passwordAuth: PASSWORD_AUTH,
    fields: [{ name: 'username', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX `idx_members_username` ON `members` (`username` COLLATE NOCASE)'],
  },
  {
    name: 'exact',
    type: 'auth',
    ...OWN,
    passwordAuth: PASSWORD_AUTH,
    fields: [{ name: 'username', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX `idx_exact_username` ON `exact` (`username`)'],
  },
];
const A = (collection: string) => `/api/collections/${collection}/auth-with-password`;
const signsIn = (id: string): Pick<ApiScenario, 'expectedStatus' | 'expectedContent'> => ({ expectedStatus: 200, expectedContent: [`"id":"${id}"`, '"token":'] });
const refused: Pick<ApiScenario, 'expectedStatus' | 'expectedContent'> = { expectedStatus: 400, expectedContent: ['"message":"Failed to authenticate."'] };

describe.each(DIALECTS)('NOCASE identities (%s)', (dialect) => {
  const app = scenarioApp(dialect, {
    collections: COLLECTIONS,
    fixtures: async (t) => {
      await t.seed('members', { id: 'member000000001', email: 'ann@example.com', username: 'Ann_Smith', ...PW });
      await t.seed('members', { id: 'member000000002', email: 'elo@example.com', username: 'Élan_Vital', ...PW });
      await t.seed('exact', { id: 'exact0000000001', email: 'bob@example.com', username: 'Bob_Jones', ...PW });
    },
  });

  scenarioGroup(app, 'auth-with-password', [
    { name: 'the username as stored', method: 'POST', url: A('members'), body: { identity: 'Ann_Smith', password: 'password123' }, ...signsIn('member000000001') },
    { name: 'another ASCII case', method: 'POST', url: A('members'), body: { identity: 'ann_SMITH', password: 'password123' }, ...signsIn('member000000001') },
    { name: 'another case with identityField', method: 'POST', url: A('members'), body: { identity: 'ANN_SMITH', password: 'password123', identityField: 'username' }, ...signsIn('member000000001') },
    { name: 'non-ASCII letters keep their case (SQLite NOCASE folds ASCII only)', method: 'POST', url: A('members'), body: { identity: 'ÉLAN_VITAL', password: 'password123' }, ...signsIn('member000000002') },
    { name: 'a different non-ASCII case does not match', method: 'POST', url: A('members'), body: { identity: 'élan_vital', password: 'password123' }, ...refused },
    { name: 'the right name with a wrong password', method: 'POST', url: A('members'), body: { identity: 'ann_smith', password: 'wrong-password' }, ...refused },
    { name: 'without NOCASE: the exact username', method: 'POST', url: A('exact'), body: { identity: 'Bob_Jones', password: 'password123' }, ...signsIn('exact0000000001') },
    { name: 'without NOCASE: another case does not match', method: 'POST', url: A('exact'), body: { identity: 'bob_jones', password: 'password123' }, ...refused },
  ]);

  it('a second member whose username differs only in ASCII case is refused by the index', async () => {
    const res = await request(app.t.http)
      .post('/api/collections/members/records')
      .set('Authorization', await app.superuser())
      .send({ email: 'ann2@example.com', username: 'ANN_smith', ...PW });
    expect(res.status).toBe(400);
    expect(res.body.data).toMatchObject({ username: { code: 'validation_not_unique' } });
  });

  it('the NOCASE lookup is served by the index', async () => {
    const condition = queryDialect(dialect).equalsNocase(sql('r."username"'), sql('?', ['ann_smith']));
    const runner = app.t.app.db.runner();
    const plan = await runner.transaction(async (tx) => {
      if (dialect === 'postgres') await tx.run('SET LOCAL enable_seqscan = off', []);
      const explain = dialect === 'postgres' ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN';
      return tx.all(`${explain} SELECT r."id" FROM "members" r WHERE ${condition.text}`, condition.values);
    });
    expect(JSON.stringify(plan)).toContain('idx_members_username');
  });
});
