import { randomInt } from 'node:crypto';
import { MFAS_TABLE, OTPS_TABLE, type SqlRunner } from '../db/index.js';
import { hashPassword, verifyPassword } from '../passwords/index.js';

/**
 * The short-lived state of OTP and MFA sign-ins, in Galley's own tables so every node sees it.
 * OTP codes are stored hashed, used once, and die after a few wrong attempts.
 */
export const MAX_OTP_ATTEMPTS = 5;

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

export interface OtpRow {
  id: string;
  collectionId: string;
  recordId: string;
  sentTo: string;
  attempts: number;
  createdAt: number;
  passwordHash: string;
}

export async function createOtp(runner: SqlRunner, collectionId: string, recordId: string, code: string, sentTo: string): Promise<string> {
  const id = randomId();
  await runner.run(
    `INSERT INTO "${OTPS_TABLE}" ("id", "collection_id", "record_id", "password", "sent_to", "attempts", "created_at") VALUES (?, ?, ?, ?, ?, 0, ?)`,
    [id, collectionId, recordId, await hashPassword(code), sentTo, Date.now()],
  );
  return id;
}

export async function findOtp(runner: SqlRunner, collectionId: string, id: string): Promise<OtpRow | null> {
  const rows = await runner.all(`SELECT * FROM "${OTPS_TABLE}" WHERE "id" = ? AND "collection_id" = ?`, [id, collectionId]);
  const row = rows[0];
  if (!row) return null;
  return {
    id: String(row['id']),
    collectionId: String(row['collection_id']),
    recordId: String(row['record_id']),
    sentTo: String(row['sent_to']),
    attempts: Number(row['attempts']),
    createdAt: Number(row['created_at']),
    passwordHash: String(row['password']),
  };
}

/**
 * Checks a code: counts the attempt first (atomically, so parallel guesses cannot exceed the
 * limit), then compares. Returns 'ok' (and deletes the OTP: single use), 'wrong' or 'exhausted'.
 */
export async function consumeOtp(runner: SqlRunner, otp: OtpRow, code: string): Promise<'ok' | 'wrong' | 'exhausted'> {
  const counted = await runner.all(
    `UPDATE "${OTPS_TABLE}" SET "attempts" = "attempts" + 1 WHERE "id" = ? AND "attempts" < ? RETURNING "attempts"`,
    [otp.id, MAX_OTP_ATTEMPTS],
  );
  if (counted.length === 0) return 'exhausted';
  if (!(await verifyPassword(code, otp.passwordHash)).ok) return 'wrong';
  const deleted = await runner.all(`DELETE FROM "${OTPS_TABLE}" WHERE "id" = ? RETURNING "id"`, [otp.id]);
  return deleted.length > 0 ? 'ok' : 'wrong'; // a parallel request used it first
}

export async function deleteExpiredOtps(runner: SqlRunner, olderThan: number): Promise<void> {
  await runner.run(`DELETE FROM "${OTPS_TABLE}" WHERE "created_at" < ?`, [olderThan]);
}

export interface MfaRow {
  id: string;
  recordId: string;
  method: string;
  createdAt: number;
}

export async function createMfa(runner: SqlRunner, collectionId: string, recordId: string, method: string): Promise<string> {
  const id = randomId();
  await runner.run(`INSERT INTO "${MFAS_TABLE}" ("id", "collection_id", "record_id", "method", "created_at") VALUES (?, ?, ?, ?, ?)`, [
    id,
    collectionId,
    recordId,
    method,
    Date.now(),
  ]);
  return id;
}

export async function findMfa(runner: SqlRunner, collectionId: string, id: string): Promise<MfaRow | null> {
  const rows = await runner.all(`SELECT * FROM "${MFAS_TABLE}" WHERE "id" = ? AND "collection_id" = ?`, [id, collectionId]);
  const row = rows[0];
  return row ? { id: String(row['id']), recordId: String(row['record_id']), method: String(row['method']), createdAt: Number(row['created_at']) } : null;
}

/** Deletes the MFA session; false when another request finished it first (each session completes once). */
export async function finishMfa(runner: SqlRunner, id: string): Promise<boolean> {
  return (await runner.all(`DELETE FROM "${MFAS_TABLE}" WHERE "id" = ? RETURNING "id"`, [id])).length > 0;
}
