import { createHash } from 'node:crypto';
import { IDEMPOTENCY_TABLE, type SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { inSession } from '../records/session.js';
import type { RecordsDeps } from '../records/service.js';
import { errorBody } from './error-handler.js';
import type { Reply } from './reply.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_KEY_LENGTH = 255;

export interface IdempotencyRequest {
  key: string | undefined;
  /** Who and where: the same key from another requester or path is another entry. */
  scope: string;
  /** What was sent (computed only when a key is present): the same key with another body is a 409. */
  fingerprint: () => string;
}

export function fingerprintOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/**
 * Runs `exec` once per Idempotency-Key. The key is claimed in the same transaction as the write
 * and its reply stored there too, so they commit together or not at all: a process that dies
 * before the commit leaves no claim behind (a retry performs the write), one that dies after it
 * leaves the reply (a retry replays it). A 4xx reply is kept as well, with its writes undone (a
 * savepoint); a 5xx keeps nothing. A retry that arrives while the first request runs waits for it
 * (PostgreSQL's unique index; SQLite's write lock) and then replays its reply; a retry with
 * another body is a 409. Every node shares the table.
 */
export async function idempotent(records: RecordsDeps, req: IdempotencyRequest, exec: (records: RecordsDeps) => Promise<Reply>): Promise<Reply> {
  if (req.key === undefined) return exec(records);
  const key = req.key;
  if (key === '' || key.length > MAX_KEY_LENGTH) throw new AppError('bad_request', `Idempotency-Key must be 1-${MAX_KEY_LENGTH} characters.`);
  const fingerprint = req.fingerprint();
  return inSession({ runner: records.runner, session: records.session, report: records.runtime.report }, async (session) => {
    const tx = session.tx;
    const stored = await claim(tx, req.scope, key, fingerprint);
    if (stored) return replay(stored, fingerprint);
    let reply: Reply;
    try {
      reply = await session.savepoint(() => exec({ ...records, runner: tx, session }));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      reply = { status: err.status, body: errorBody(err) };
    }
    await tx.run(`UPDATE "${IDEMPOTENCY_TABLE}" SET "status" = ?, "headers" = ?, "body" = ? WHERE "scope" = ? AND "key" = ?`, [
      reply.status,
      JSON.stringify(reply.headers ?? {}),
      reply.body === undefined ? '' : JSON.stringify(reply.body),
      req.scope,
      key,
    ]);
    return reply;
  });
}

type StoredReply = Record<string, unknown>;

/** Claims the key (null), or returns the reply stored under it by an earlier request. Expired entries are replaced. */
async function claim(tx: SqlRunner, scope: string, key: string, fingerprint: string): Promise<StoredReply | null> {
  const pg = tx.dialect === 'postgres';
  const now = Date.now();
  const insert = `${pg ? 'INSERT INTO' : 'INSERT OR IGNORE INTO'} "${IDEMPOTENCY_TABLE}" ("scope", "key", "fingerprint", "status", "created_at") VALUES (?, ?, ?, 0, ?)${pg ? ' ON CONFLICT DO NOTHING' : ''}`;
  if ((await tx.run(insert, [scope, key, fingerprint, now])) === 1) {
    // Expired entries are purged now and then, by whichever node happens to write.
    if (Math.random() < 0.01) await tx.run(`DELETE FROM "${IDEMPOTENCY_TABLE}" WHERE "created_at" < ?`, [now - IDEMPOTENCY_TTL_MS]);
    return null;
  }
  const expired = await tx.run(`DELETE FROM "${IDEMPOTENCY_TABLE}" WHERE "scope" = ? AND "key" = ? AND "created_at" < ?`, [scope, key, now - IDEMPOTENCY_TTL_MS]);
  if (expired === 1 && (await tx.run(insert, [scope, key, fingerprint, now])) === 1) return null;
  const rows = await tx.all(`SELECT "fingerprint", "status", "headers", "body" FROM "${IDEMPOTENCY_TABLE}" WHERE "scope" = ? AND "key" = ?`, [scope, key]);
  // The claim and the reply commit together, so a row without a reply is only ever seen by its own transaction.
  if (!rows[0] || Number(rows[0]['status']) === 0) throw new AppError('idempotency_in_progress');
  return rows[0];
}

function replay(row: StoredReply, fingerprint: string): Reply {
  if (row['fingerprint'] !== fingerprint) throw new AppError('idempotency_conflict');
  const headers = { ...(JSON.parse(String(row['headers'])) as Record<string, string>), 'Idempotency-Replayed': 'true' };
  const body = String(row['body']);
  return { status: Number(row['status']), headers, ...(body === '' ? {} : { body: JSON.parse(body) as unknown }) };
}
