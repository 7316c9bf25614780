/**
 * Auth record ids are unique across every auth collection (issue 10, item 2; PocketBase's
 * onRecordSaveExecute): tokens and `@request.auth.id` rules compare bare ids, so a new auth record
 * may not reuse an id that another auth collection (`_superusers` included) already has.
 */
import { describe, expect } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, scenarioGroup, type ApiScenario } from '../helpers/scenario.js';

const SHARED = 'shared000000001';
const ROOT_ID = 'root00000000001';
const PW = { password: 'password123', passwordConfirm: 'password123' };
const COLLECTIONS = [
  { name: 'users', type: 'auth', listRule: '', viewRule: '', createRule: '', updateRule: null, deleteRule: null, fields: [] },
  { name: 'clients', type: 'auth', listRule: '', viewRule: '', createRule: 'email ~ "@ok.example"', updateRule: null, deleteRule: null, fields: [] },
  { name: 'notes', listRule: '', viewRule: '', createRule: '', updateRule: null, deleteRule: null, fields: [{ name: 'title', type: 'text' }] },
];
const R = (collection: string) => `/api/collections/${collection}/records`;

const invalidAuthId: Pick<ApiScenario, 'expectedStatus' | 'expectedContent' | 'after'> = {
  expectedStatus: 400,
  expectedContent: ['"code":"create_failed"'],
  after(_t, res) {
    expect(res.json()['data']).toEqual({ id: { code: 'validation_invalid_auth_id', message: 'Invalid or duplicated auth record id.' } });
  },
};

describe.each(DIALECTS)('auth ids across auth collections (%s)', (dialect) => {
  const app = scenarioApp(dialect, {
    collections: COLLECTIONS,
    fixtures: async (t) => {
      await t.seed('clients', { id: SHARED, email: 'shared@ok.example', ...PW });
      await t.seed('_superusers', { id: ROOT_ID, email: 'root@example.com', ...PW });
    },
  });

  scenarioGroup(app, 'create', [
    { name: 'an id another auth collection uses', method: 'POST', url: R('users'), body: { id: SHARED, email: 'a@example.com', ...PW }, ...invalidAuthId },
    { name: 'an id a superuser uses', method: 'POST', url: R('users'), body: { id: ROOT_ID, email: 'b@example.com', ...PW }, ...invalidAuthId },
    { name: 'a superuser is refused the same way', method: 'POST', url: R('users'), auth: 'superuser', body: { id: SHARED, email: 'c@example.com', ...PW }, ...invalidAuthId },
    {
      name: 'a requester the createRule refuses learns nothing about the id (bare 400)',
      method: 'POST',
      url: R('clients'),
      body: { id: ROOT_ID, email: 'd@elsewhere.example', ...PW },
      expectedStatus: 400,
      expectedContent: ['"code":"create_failed"', '"data":{}'],
    },
    { name: 'a base collection may reuse an auth id', method: 'POST', url: R('notes'), body: { id: SHARED, title: 'x' }, expectedStatus: 200, expectedContent: [`"id":"${SHARED}"`] },
    { name: 'a free id is fine', method: 'POST', url: R('users'), body: { id: 'free00000000001', email: 'e@example.com', ...PW }, expectedStatus: 200, expectedContent: ['"id":"free00000000001"'] },
    {
      name: 'and the created id is then refused in the other auth collection',
      method: 'POST',
      url: R('clients'),
      body: { id: 'free00000000001', email: 'f@ok.example', ...PW },
      ...invalidAuthId,
    },
  ]);
});
