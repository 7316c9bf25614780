/**
 * The confirm-* endpoints answer as PocketBase's forms do (issue 10, items 1 and 3): every field's
 * error in one 400 (`token`, `password`, `passwordConfirm` together), and the token error says why:
 * `validation_token_collection_mismatch` for a valid token of another auth collection,
 * `validation_invalid_token_claims` / `validation_invalid_token_payload` for missing claims,
 * `validation_token_email_mismatch`, `validation_invalid_token_email`, else `validation_invalid_token`.
 */
import { describe, expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { scenarioApp, scenarioGroup, type ApiScenario, type ScenarioResponse, type Vars } from '../helpers/scenario.js';

const PASSWORD = 'password123';
const PW = { password: PASSWORD, passwordConfirm: PASSWORD };
const OWN = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: null, deleteRule: null };
const COLLECTIONS = [
  { name: 'users', type: 'auth', ...OWN, fields: [] },
  { name: 'clients', type: 'auth', ...OWN, fields: [] },
];
const A = (collection: string, endpoint: string) => `/api/collections/${collection}/${endpoint}`;
const VALIDATION = 'An error occurred while validating the submitted data.';

let n = 0;
/** Seeds a record with a fresh email; `v.id`, `v.email`. */
async function seed(t: TestApp, v: Vars, collection = 'users'): Promise<void> {
  v['email'] = `c${++n}_${Date.now().toString(36)}@example.com`;
  v['id'] = String((await t.seed(collection, { email: v['email'], ...PW }))['id']);
}

/** A token of `kind` for a stored record, signed as the server signs it. */
async function sign(t: TestApp, collection: string, id: string, kind: 'auth' | 'verification' | 'passwordReset' | 'emailChange', options: { extra?: Record<string, string>; duration?: number } = {}): Promise<string> {
  const rt = t.app.records.find(collection)!;
  const rows = await t.app.db.runner().all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]);
  return t.tokens.sign(rt, rt.decode(rows[0]!), kind, options);
}

/** A 400 whose `data` has exactly these field codes. */
function fieldErrors(codes: Record<string, string>, more?: (t: TestApp, v: Vars) => Promise<void>): Pick<ApiScenario, 'expectedStatus' | 'expectedContent' | 'after'> {
  return {
    expectedStatus: 400,
    expectedContent: ['"status":400'],
    async after(t: TestApp, res: ScenarioResponse, v: Vars) {
      const body = res.json<{ message: string; data: Record<string, { code: string; message: string }> }>();
      expect(body.message).toBe(VALIDATION);
      expect(Object.fromEntries(Object.entries(body.data).map(([k, e]) => [k, e.code]))).toEqual(codes);
      for (const e of Object.values(body.data)) expect(e.message).not.toBe('');
      await more?.(t, v);
    },
  };
}

async function stored(t: TestApp, collection: string, id: string): Promise<Record<string, unknown>> {
  const rt = t.app.records.find(collection)!;
  return rt.decode((await t.app.db.runner().all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]))[0]!);
}

describe.each(DIALECTS)('confirm-* field errors (%s)', (dialect) => {
  const app = scenarioApp(dialect, { collections: COLLECTIONS });

  scenarioGroup(app, 'confirm-password-reset', [
    { name: 'an empty body: all three required at once', method: 'POST', url: A('users', 'confirm-password-reset'), body: {}, ...fieldErrors({ token: 'validation_required', password: 'validation_required', passwordConfirm: 'validation_required' }) },
    {
      name: 'an expired token, a short password and a different confirmation: three errors at once',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'passwordReset', { extra: { email: v['email']! }, duration: -60 });
      },
      body: (v) => ({ token: v['token'], password: '1234567', passwordConfirm: '7654321' }),
      ...fieldErrors({ token: 'validation_invalid_token', password: 'validation_length_out_of_range', passwordConfirm: 'validation_values_mismatch' }),
    },
    {
      name: 'a valid reset token of another auth collection: collection mismatch, nothing changes',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seed(t, v, 'clients');
        v['hash'] = String((await stored(t, 'clients', v['id']!))['password']);
        v['token'] = await sign(t, 'clients', v['id']!, 'passwordReset', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-password', passwordConfirm: 'brand-new-password' }),
      ...fieldErrors({ token: 'validation_token_collection_mismatch' }, async (t, v) => {
        expect((await stored(t, 'clients', v['id']!))['password']).toBe(v['hash']);
      }),
    },
    {
      name: 'a verification token (other kind) with a mismatching confirmation',
      method: 'POST',
      url: A('users', 'confirm-password-reset'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: 'brand-new-password', passwordConfirm: 'other' }),
      ...fieldErrors({ token: 'validation_invalid_token', passwordConfirm: 'validation_values_mismatch' }),
    },
  ]);

  scenarioGroup(app, 'confirm-verification', [
    {
      name: 'a valid verification token of another auth collection: collection mismatch',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seed(t, v, 'clients');
        v['token'] = await sign(t, 'clients', v['id']!, 'verification', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'] }),
      ...fieldErrors({ token: 'validation_token_collection_mismatch' }, async (t, v) => {
        expect((await stored(t, 'clients', v['id']!))['verified']).toBe(false);
      }),
    },
    {
      name: 'a token without an email claim: invalid claims',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'verification');
      },
      body: (v) => ({ token: v['token'] }),
      ...fieldErrors({ token: 'validation_invalid_token_claims' }),
    },
    {
      name: 'a token for an address the record no longer has: email mismatch',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'verification', { extra: { email: 'before@example.com' } });
      },
      body: (v) => ({ token: v['token'] }),
      ...fieldErrors({ token: 'validation_token_email_mismatch' }),
    },
    {
      name: 'an expired token with an email claim: invalid token',
      method: 'POST',
      url: A('users', 'confirm-verification'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'verification', { extra: { email: v['email']! }, duration: -60 });
      },
      body: (v) => ({ token: v['token'] }),
      ...fieldErrors({ token: 'validation_invalid_token' }),
    },
    {
      name: '_superusers: 400 before the form (all superusers are verified)',
      method: 'POST',
      url: A('_superusers', 'confirm-verification'),
      body: { token: 'x' },
      expectedStatus: 400,
      expectedContent: ['"message":"All superusers are verified by default."', '"data":{}'],
    },
  ]);

  scenarioGroup(app, 'confirm-email-change', [
    {
      name: 'a token without newEmail: invalid payload, and the password cannot be checked',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']! } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fieldErrors({ token: 'validation_invalid_token_payload', password: 'validation_invalid_password' }),
    },
    {
      name: 'a valid email-change token of another auth collection: collection mismatch',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seed(t, v, 'clients');
        v['token'] = await sign(t, 'clients', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: `moved${++n}@example.com` } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fieldErrors({ token: 'validation_token_collection_mismatch', password: 'validation_invalid_password' }, async (t, v) => {
        expect((await stored(t, 'clients', v['id']!))['email']).toBe(v['email']);
      }),
    },
    {
      name: 'a new address taken meanwhile: invalid token email',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        const other: Vars = {};
        await seed(t, other);
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: other['email']! } });
      },
      body: (v) => ({ token: v['token'], password: PASSWORD }),
      ...fieldErrors({ token: 'validation_invalid_token_email', password: 'validation_invalid_password' }),
    },
    {
      name: 'a bad token and no password: both fields',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      body: { token: 'garbage' },
      ...fieldErrors({ token: 'validation_invalid_token_payload', password: 'validation_required' }),
    },
    {
      name: 'a valid token and a wrong password: only the password',
      method: 'POST',
      url: A('users', 'confirm-email-change'),
      before: async (t, v) => {
        await seed(t, v);
        v['token'] = await sign(t, 'users', v['id']!, 'emailChange', { extra: { email: v['email']!, newEmail: `fresh${++n}@example.com` } });
      },
      body: (v) => ({ token: v['token'], password: 'not-the-password' }),
      ...fieldErrors({ password: 'validation_invalid_password' }),
    },
  ]);
});
