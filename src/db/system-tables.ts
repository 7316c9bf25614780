import type { SqlRunner } from './runner.js';

/**
 * Galley's own bookkeeping tables next to the collections (not planned from
 * collection files): per-collection token secrets, stored idempotent responses and rate-limit counters.
 * Created idempotently at start; shared by every node through the database.
 */
export const SECRETS_TABLE = '_galley_secrets';
export const IDEMPOTENCY_TABLE = '_galley_idempotency';
/** Fixed-window counters of the rate limiter (when no Redis is configured). */
export const RATE_LIMITS_TABLE = '_galley_rate_limits';
// OTP codes and MFA sessions used to live in `_galley_otps` and `_galley_mfas`; they are now the
// built-in `_otps` and `_mfas` collections. The old tables (rows that lived minutes) are no longer read
// or created, and are left in place so that nodes still on the old version keep working during an upgrade.

/** One row per cron job tick, inserted by the node that runs it (the others' inserts find it there). */
export const CRON_RUNS_TABLE = '_galley_cron_runs';

/**
 * Creates Galley's own tables when missing. `migrate` calls it inside its transaction, after the
 * migration lock: PostgreSQL's `CREATE TABLE IF NOT EXISTS` is not safe against itself (two
 * nodes starting together on a fresh database race on the table's type and one fails).
 */
export async function ensureSystemTables(runner: Pick<SqlRunner, 'dialect' | 'run'>): Promise<void> {
  const pg = runner.dialect === 'postgres';
  const bigint = pg ? 'BIGINT' : 'INTEGER';
  // kind: auth | verification | passwordReset | emailChange | file | install; fingerprint: what the secret is bound to (the authRule for kind auth).
  await runner.run(
    `CREATE TABLE IF NOT EXISTS "${SECRETS_TABLE}" ("collection_id" TEXT NOT NULL, "kind" TEXT NOT NULL, "secret" TEXT NOT NULL, ` +
      `"fingerprint" TEXT NOT NULL DEFAULT '', PRIMARY KEY ("collection_id", "kind"))`,
    [],
  );
  await runner.run(`CREATE TABLE IF NOT EXISTS "${RATE_LIMITS_TABLE}" ("key" TEXT PRIMARY KEY NOT NULL, "hits" INTEGER NOT NULL, "reset_at" ${bigint} NOT NULL)`, []);
  await runner.run(
    `CREATE TABLE IF NOT EXISTS "${CRON_RUNS_TABLE}" ("name" TEXT NOT NULL, "tick" ${bigint} NOT NULL, "node" TEXT NOT NULL, ` +
      `"claimed_at" ${bigint} NOT NULL, PRIMARY KEY ("name", "tick"))`,
    [],
  );
  await runner.run(
    `CREATE TABLE IF NOT EXISTS "${IDEMPOTENCY_TABLE}" (` +
      `"scope" TEXT NOT NULL, "key" TEXT NOT NULL, "fingerprint" TEXT NOT NULL, ` +
      `"status" INTEGER NOT NULL DEFAULT 0, "headers" TEXT NOT NULL DEFAULT '{}', "body" TEXT NOT NULL DEFAULT '', ` +
      `"created_at" ${bigint} NOT NULL, PRIMARY KEY ("scope", "key"))`,
    [],
  );
}
