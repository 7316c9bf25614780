/**
 * Per-record throttles kept in the database, so every node sharing it sees them (issue 10, items 5
 * and 6): at most one verification or password-reset email per record per 2 minutes (the answer stays
 * 204); request-otp answers the newest live otpId once a record has 10; wrong OTP codes are counted per
 * record across its codes, and after 5 even the right code answers 429 until the window ends.
 *
 * Emails go to the log mailer, which logs synchronously when a message is handed over: after the
 * response, the log says whether one was sent. The end of a window is simulated by moving the
 * counter's `reset_at` into the past (no waiting).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOtp } from '../../src/auth/challenges.js';
import { RATE_LIMITS_TABLE } from '../../src/db/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const PW = { password: 'password123', passwordConfirm: 'password123' };
const OWN = { listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id', createRule: null, updateRule: null, deleteRule: null };
const COLLECTIONS = [{ name: 'members', type: 'auth', ...OWN, otp: { enabled: true, duration: 180, length: 6 }, fields: [] }];
const A = (endpoint: string) => `/api/collections/members/${endpoint}`;

describe.each(DIALECTS)('per-record auth throttles (%s)', (dialect) => {
  let t: TestApp;
  const mails: { to: string; subject: string }[] = [];
  let n = 0;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const entry = JSON.parse(line) as { mail?: { to: string; subject: string } };
          if (entry.mail) mails.push(entry.mail);
        }
        done();
      },
    });
    t = await createTestApp(dialect, COLLECTIONS, { log: pino({ level: 'info' }, sink) });
  });
  afterAll(async () => t?.close());

  const mailsTo = (email: string) => mails.filter((m) => m.to === email).length;
  const post = (endpoint: string, body: Record<string, unknown>) => request(t.http).post(A(endpoint)).send(body);
  const collectionId = () => t.app.records.find('members')!.collection.id;

  async function member(verified = false): Promise<{ id: string; email: string }> {
    const email = `m${++n}_${Date.now().toString(36)}@example.com`;
    const record = await t.seed('members', { email, verified, ...PW });
    return { id: String(record['id']), email };
  }

  /** Ends the counter's current window, as 2 (or 3) minutes passing would. */
  async function endWindow(key: string): Promise<void> {
    const changed = await t.app.db.runner().all(`UPDATE "${RATE_LIMITS_TABLE}" SET "reset_at" = ? WHERE "key" = ? RETURNING "key"`, [Date.now() - 1, key]);
    expect(changed, `counter ${key}`).toHaveLength(1);
  }

  describe('resend throttles', () => {
    for (const [endpoint, kind] of [['request-verification', 'verification'], ['request-password-reset', 'passwordReset']] as const) {
      it(`${endpoint}: one email per record per window, the same 204 every time`, async () => {
        const { id, email } = await member();
        for (let i = 0; i < 3; i++) {
          const res = await post(endpoint, { email });
          expect(res.status).toBe(204);
          expect(res.text).toBe('');
        }
        expect(mailsTo(email)).toBe(1);
        // another record is not affected
        const other = await member();
        expect((await post(endpoint, { email: other.email })).status).toBe(204);
        expect(mailsTo(other.email)).toBe(1);
        // the state is in the database, shared by every node
        const key = `resend:${kind}:${collectionId()}:${id}`;
        await endWindow(key);
        expect((await post(endpoint, { email })).status).toBe(204);
        expect(mailsTo(email)).toBe(2);
      });
    }

    it('confirm-password-reset ends the throttle: a new reset can be asked for at once', async () => {
      const { id, email } = await member();
      expect((await post('request-password-reset', { email })).status).toBe(204);
      const rt = t.app.records.find('members')!;
      const rows = await t.app.db.runner().all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ?`, [id]);
      const token = await t.tokens.sign(rt, rt.decode(rows[0]!), 'passwordReset', { extra: { email } });
      expect((await post('confirm-password-reset', { token, password: 'another-password', passwordConfirm: 'another-password' })).status).toBe(204);
      expect((await post('request-password-reset', { email })).status).toBe(204);
      expect(mailsTo(email)).toBe(2);
    });
  });

  describe('OTP throttles', () => {
    it('request-otp: with 10 live codes the newest otpId comes back, without an 11th code or email', async () => {
      const { id, email } = await member(true);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await post('request-otp', { email });
        expect(res.status).toBe(200);
        ids.push(String(res.body.otpId));
      }
      expect(new Set(ids).size).toBe(10);
      const again = await post('request-otp', { email });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ otpId: ids[9] });
      expect(mailsTo(email)).toBe(10);
      const stored = await t.app.db.runner().all(`SELECT "id" FROM "_otps" WHERE "recordRef" = ?`, [id]);
      expect(stored).toHaveLength(10);
    });

    it('wrong codes count per record across its codes; after 5 even the right code is 429 until the window ends', async () => {
      const { id } = await member(true);
      const store = { runner: t.app.db.runner(), runtime: () => t.app.records };
      const first = await createOtp(store, collectionId(), id, '111111', '');
      const second = await createOtp(store, collectionId(), id, '222222', '');
      for (const otpId of [first, first, first, second, second]) {
        const res = await post('auth-with-otp', { otpId, password: '999999' });
        expect(res.status).toBe(400);
        expect(res.body.message).toBe('Invalid or expired OTP.');
      }
      const blocked = await post('auth-with-otp', { otpId: second, password: '222222' });
      expect(blocked.status).toBe(429);
      expect(blocked.body).toMatchObject({ code: 'rate_limited', message: 'Too many attempts, please try again later with a new OTP.' });
      await endWindow(`otp-failures:${collectionId()}:${id}`);
      const ok = await post('auth-with-otp', { otpId: second, password: '222222' });
      expect(ok.status).toBe(200);
      expect(ok.body.record.id).toBe(id);
    });

    it('a right code takes its attempt back: 4 wrong, right, 1 wrong more is still a 400', async () => {
      const { id } = await member(true);
      const store = { runner: t.app.db.runner(), runtime: () => t.app.records };
      const otpId = await createOtp(store, collectionId(), id, '333333', '');
      for (let i = 0; i < 4; i++) expect((await post('auth-with-otp', { otpId, password: '000000' })).status).toBe(400);
      expect((await post('auth-with-otp', { otpId, password: '333333' })).status).toBe(200);
      const next = await createOtp(store, collectionId(), id, '444444', '');
      expect((await post('auth-with-otp', { otpId: next, password: '000000' })).status).toBe(400);
      expect((await post('auth-with-otp', { otpId: next, password: '444444' })).status).toBe(429);
    });
  });
});
