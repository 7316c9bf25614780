/**
 * The order of checks on the endpoints behind PocketBase's RequireSameCollectionContextAuth
 * (`auth-refresh`, `request-email-change`; issue 10, item 4): the requester is checked before the
 * collection's type, so a guest gets 401 and a record of another collection 403 even when the path
 * names a base collection. Only an unknown collection answers 404 first.
 */
import { describe } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, scenarioGroup, type ApiScenario } from '../helpers/scenario.js';

const ANN = 'ann000000000000';
const OWN = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: null, deleteRule: null };
const COLLECTIONS = [
  { name: 'users', type: 'auth', ...OWN, fields: [] },
  { name: 'notes', listRule: '', viewRule: '', createRule: null, updateRule: null, deleteRule: null, fields: [{ name: 'title', type: 'text' }] },
];
const USER = { collection: 'users', id: ANN } as const;
const A = (collection: string, endpoint: string) => `/api/collections/${collection}/${endpoint}`;
const fails = (status: number, code: string): Pick<ApiScenario, 'expectedStatus' | 'expectedContent'> => ({ expectedStatus: status, expectedContent: [`"status":${status}`, `"code":"${code}"`, '"data":{}'] });
const OTHER_COLLECTION = 'The request requires auth record from users collection.';

describe.each(DIALECTS)('auth check order (%s)', (dialect) => {
  const app = scenarioApp(dialect, {
    collections: COLLECTIONS,
    fixtures: async (t) => void (await t.seed('users', { id: ANN, email: 'ann@example.com', password: 'password123', passwordConfirm: 'password123' })),
  });

  scenarioGroup(app, 'request-email-change', [
    { name: 'a guest on a base collection: 401, not 404', method: 'POST', url: A('notes', 'request-email-change'), body: { newEmail: 'new@example.com' }, ...fails(401, 'unauthorized') },
    {
      name: 'a signed-in user on a base collection: 403',
      method: 'POST',
      url: A('notes', 'request-email-change'),
      auth: USER,
      body: { newEmail: 'new@example.com' },
      ...fails(403, 'auth_other_collection'),
      expectedContent: ['"status":403', OTHER_COLLECTION],
    },
    { name: 'a guest on _superusers: 401 before the superusers 400', method: 'POST', url: A('_superusers', 'request-email-change'), body: { newEmail: 'new@example.com' }, ...fails(401, 'unauthorized') },
    { name: 'a superuser on _superusers: 400', method: 'POST', url: A('_superusers', 'request-email-change'), auth: 'superuser', body: { newEmail: 'new@example.com' }, ...fails(400, 'bad_request') },
    { name: 'an unknown collection: 404 even for a guest', method: 'POST', url: A('nope', 'request-email-change'), body: { newEmail: 'new@example.com' }, ...fails(404, 'auth_collection_not_found') },
  ]);

  scenarioGroup(app, 'auth-refresh', [
    { name: 'a guest on a base collection: 401, not 404', method: 'POST', url: A('notes', 'auth-refresh'), ...fails(401, 'unauthorized') },
    { name: 'a signed-in user on a base collection: 403, not 404', method: 'POST', url: A('notes', 'auth-refresh'), auth: USER, expectedStatus: 403, expectedContent: ['"status":403', '"code":"auth_other_collection"', OTHER_COLLECTION] },
    { name: 'a superuser on users: 403 naming its own collection', method: 'POST', url: A('users', 'auth-refresh'), auth: 'superuser', expectedStatus: 403, expectedContent: ['"status":403', 'The request requires auth record from _superusers collection.'] },
    { name: 'an unknown collection: 404 for a signed-in user too', method: 'POST', url: A('nope', 'auth-refresh'), auth: USER, ...fails(404, 'auth_collection_not_found') },
    { name: 'the own collection: 200', method: 'POST', url: A('users', 'auth-refresh'), auth: USER, expectedStatus: 200, expectedContent: ['"token":'] },
  ]);
});
