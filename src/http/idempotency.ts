import { createHash } from 'node:crypto';
import { IDEMPOTENCY_TABLE, type SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { errorBody } from './error-handler.js';
import type { Reply } from './reply.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 255;

export interface IdempotencyRequest {
  key: string | undefined;
  /** Who and where: the same key from another requester or path is another entry. */
  scope: string;
  /** What was sent: the same key with another body is a 409. */
  fingerprint: string;
}

export function fingerprintOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * Runs `exec` once per Idempotency-Key: the first reply (2xx or 4xx) is stored in
 * the database for 24 h and replayed to retries, so every node shares it. A retry
 * with another body is a 409; one that arrives while the first still runs, too.
 */
export async function idempotent(runner: SqlRunner, req: IdempotencyRequest, exec: () => Promise<Reply>): Promise<Reply> {
  if (req.key === undefined) return exec();
  if (req.key === '' || req.key.length > MAX_KEY_LENGTH) throw new AppError('bad_request', `Idempotency-Key must be 1-${MAX_KEY_LENGTH} characters.`);
  const now = Date.now();
  if (!(await claim(runner, req, now))) return replay(runner, req);
  let reply: Reply;
  try {
    reply = await exec();
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) {
      await release(runner, req);
      throw err;
    }
    reply = { status: err.status, body: errorBody(err) };
  }
  await runner.run(`UPDATE "${IDEMPOTENCY_TABLE}" SET "status" = ?, "headers" = ?, "body" = ? WHERE "scope" = ? AND "key" = ?`, [
    reply.status,
    JSON.stringify(reply.headers ?? {}),
    reply.body === undefined ? '' : JSON.stringify(reply.body),
    req.scope,
    req.key,
  ]);
  return reply;
}

async function claim(runner: SqlRunner, req: IdempotencyRequest, now: number): Promise<boolean> {
  const pg = runner.dialect === 'postgres';
  const insert = `${pg ? 'INSERT INTO' : 'INSERT OR IGNORE INTO'} "${IDEMPOTENCY_TABLE}" ("scope", "key", "fingerprint", "status", "created_at") VALUES (?, ?, ?, 0, ?)${pg ? ' ON CONFLICT DO NOTHING' : ''}`;
  if ((await runner.run(insert, [req.scope, req.key, req.fingerprint, now])) === 1) {
    // Expired entries are purged now and then, by whichever node happens to write.
    if (Math.random() < 0.01) await runner.run(`DELETE FROM "${IDEMPOTENCY_TABLE}" WHERE "created_at" < ?`, [now - IDEMPOTENCY_TTL_MS]);
    return true;
  }
  const expired = await runner.run(`DELETE FROM "${IDEMPOTENCY_TABLE}" WHERE "scope" = ? AND "key" = ? AND "created_at" < ?`, [req.scope, req.key, now - IDEMPOTENCY_TTL_MS]);
  return expired === 1 && (await runner.run(insert, [req.scope, req.key, req.fingerprint, now])) === 1;
}

async function replay(runner: SqlRunner, req: IdempotencyRequest): Promise<Reply> {
  const rows = await runner.all(`SELECT "fingerprint", "status", "headers", "body" FROM "${IDEMPOTENCY_TABLE}" WHERE "scope" = ? AND "key" = ?`, [req.scope, req.key]);
  const row = rows[0];
  if (!row) throw new AppError('idempotency_in_progress');
  if (row['fingerprint'] !== req.fingerprint) throw new AppError('idempotency_conflict');
  if (Number(row['status']) === 0) throw new AppError('idempotency_in_progress');
  const headers = { ...(JSON.parse(String(row['headers'])) as Record<string, string>), 'Idempotency-Replayed': 'true' };
  const body = String(row['body']);
  return { status: Number(row['status']), headers, ...(body === '' ? {} : { body: JSON.parse(body) as unknown }) };
}

async function release(runner: SqlRunner, req: IdempotencyRequest): Promise<void> {
  await runner.run(`DELETE FROM "${IDEMPOTENCY_TABLE}" WHERE "scope" = ? AND "key" = ?`, [req.scope, req.key!]).catch(() => {});
}
