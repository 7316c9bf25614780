import { randomInt } from 'node:crypto';
import type { SqlRunner } from '../db/index.js';
import { hashPassword, verifyPassword } from '../passwords/index.js';
import type { CollectionRuntime, RecordsRuntime } from '../records/runtime.js';
import { deleteRecord, insertFinalRecord } from '../records/service.js';
import type { RequestInfo } from '../records/types.js';
import { AppError } from '../errors/index.js';
import { formatDate, MFAS_COLLECTION, OTPS_COLLECTION, parseDate } from '../schema/index.js';

/**
 * The short-lived state of OTP and MFA sign-ins, in PocketBase's built-in `_otps` and `_mfas`
 * collections (so every node sees it, and an owner can list its own as in PocketBase). OTP codes are
 * stored hashed and used once; expiry runs from `created`.
 */
export interface ChallengeStore {
  runner: SqlRunner;
  runtime: () => RecordsRuntime;
}

/** PocketBase reuses the newest live OTP instead of creating an 11th (request-otp). */
export const MAX_LIVE_OTPS = 10;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A 15-character id like PocketBase's record ids (otpId, mfaId, and the decoys for unknown emails). */
export function randomId(): string {
  let id = '';
  for (let i = 0; i < 15; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export function randomDigits(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

function collection(store: ChallengeStore, name: string): CollectionRuntime {
  return store.runtime().find(name)!; // built in: always present
}

/** Galley itself: the challenges are written through the write pipeline like any record, rules aside. */
const SYSTEM: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'default', query: {}, headers: {}, body: {} };

/** Creates a challenge record through the write pipeline (its values are final); returns its id. */
async function insertChallenge(store: ChallengeStore, name: string, values: Record<string, unknown>): Promise<string> {
  const id = randomId();
  await insertFinalRecord({ runtime: store.runtime(), runner: store.runner }, name, { id, ...values }, SYSTEM);
  return id;
}

/** Deletes a challenge through the write pipeline; false when another request deleted it first (single use). */
async function deleteChallenge(store: ChallengeStore, name: string, id: string): Promise<boolean> {
  try {
    await deleteRecord({ runtime: store.runtime(), runner: store.runner }, name, id, SYSTEM);
    return true;
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') return false;
    throw err;
  }
}

/** `created` as epoch ms (both engines return PocketBase's text form). */
function createdAt(rt: CollectionRuntime, row: Record<string, unknown>): number {
  return parseDate(String(rt.decode(row)['created']))?.getTime() ?? 0;
}

export interface OtpRow {
  id: string;
  recordId: string;
  sentTo: string;
  createdAt: number;
  passwordHash: string;
}

export async function createOtp(store: ChallengeStore, collectionId: string, recordId: string, code: string, sentTo: string): Promise<string> {
  return insertChallenge(store, OTPS_COLLECTION, { collectionRef: collectionId, recordRef: recordId, password: await hashPassword(code), sentTo });
}

/** Ids of the record's OTPs created at or after `since` (epoch ms), newest first, at most MAX_LIVE_OTPS. */
export async function liveOtps(store: ChallengeStore, collectionId: string, recordId: string, since: number): Promise<string[]> {
  const rt = collection(store, OTPS_COLLECTION);
  const rows = await store.runner.all(
    `SELECT "id" FROM ${rt.table} WHERE "collectionRef" = ? AND "recordRef" = ? AND "created" >= ? ORDER BY "created" DESC LIMIT ${MAX_LIVE_OTPS}`,
    [collectionId, recordId, formatDate(new Date(since))],
  );
  return rows.map((row) => String(row['id']));
}

export async function findOtp(store: ChallengeStore, collectionId: string, id: string): Promise<OtpRow | null> {
  const rt = collection(store, OTPS_COLLECTION);
  const rows = await store.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ? AND r."collectionRef" = ?`, [id, collectionId]);
  const row = rows[0];
  if (!row) return null;
  const otp = rt.decode(row);
  return { id: String(otp['id']), recordId: String(otp['recordRef']), sentTo: String(otp['sentTo']), createdAt: createdAt(rt, row), passwordHash: String(otp['password']) };
}

/** Checks a code; on a match the OTP is deleted (single use). False for a wrong code or one a parallel request used first. */
export async function useOtp(store: ChallengeStore, otp: OtpRow, code: string): Promise<boolean> {
  if (!(await verifyPassword(code, otp.passwordHash)).ok) return false;
  return deleteChallenge(store, OTPS_COLLECTION, otp.id);
}

/** Removes a collection's OTPs created before `olderThan` (epoch ms): its own duration, not another collection's. */
// Expired challenges are purged in bulk by a plain DELETE, as PocketBase purges them: garbage
// collection of Galley's own short-lived rows, not a write anybody made (no hooks, no events).
export async function deleteExpiredOtps(store: ChallengeStore, collectionId: string, olderThan: number): Promise<void> {
  const rt = collection(store, OTPS_COLLECTION);
  await store.runner.run(`DELETE FROM ${rt.table} WHERE "collectionRef" = ? AND "created" < ?`, [collectionId, formatDate(new Date(olderThan))]);
}

export interface MfaRow {
  id: string;
  recordId: string;
  method: string;
  createdAt: number;
}

export async function createMfa(store: ChallengeStore, collectionId: string, recordId: string, method: string, expiredBefore: number): Promise<string> {
  const rt = collection(store, MFAS_COLLECTION);
  await store.runner.run(`DELETE FROM ${rt.table} WHERE "collectionRef" = ? AND "created" < ?`, [collectionId, formatDate(new Date(expiredBefore))]);
  return insertChallenge(store, MFAS_COLLECTION, { collectionRef: collectionId, recordRef: recordId, method });
}

export async function findMfa(store: ChallengeStore, collectionId: string, id: string): Promise<MfaRow | null> {
  const rt = collection(store, MFAS_COLLECTION);
  const rows = await store.runner.all(`SELECT ${rt.selectList} FROM ${rt.table} r WHERE r."id" = ? AND r."collectionRef" = ?`, [id, collectionId]);
  const row = rows[0];
  if (!row) return null;
  const mfa = rt.decode(row);
  return { id: String(mfa['id']), recordId: String(mfa['recordRef']), method: String(mfa['method']), createdAt: createdAt(rt, row) };
}

/** Deletes the MFA session; false when another request finished it first (each session completes once). */
export async function finishMfa(store: ChallengeStore, id: string): Promise<boolean> {
  return deleteChallenge(store, MFAS_COLLECTION, id);
}
