import type { SqlRunner } from './runner.js';

/**
 * Galley's own bookkeeping tables next to the collections (not planned from
 * collection files): per-collection token secrets and stored idempotent responses.
 * Created idempotently at start; shared by every node through the database.
 */
export const SECRETS_TABLE = '_galley_secrets';
export const IDEMPOTENCY_TABLE = '_galley_idempotency';

export async function ensureSystemTables(runner: SqlRunner): Promise<void> {
  const pg = runner.dialect === 'postgres';
  await runner.run(`CREATE TABLE IF NOT EXISTS "${SECRETS_TABLE}" ("collection_id" TEXT PRIMARY KEY NOT NULL, "secret" TEXT NOT NULL)`, []);
  await runner.run(
    `CREATE TABLE IF NOT EXISTS "${IDEMPOTENCY_TABLE}" (` +
      `"scope" TEXT NOT NULL, "key" TEXT NOT NULL, "fingerprint" TEXT NOT NULL, ` +
      `"status" INTEGER NOT NULL DEFAULT 0, "headers" TEXT NOT NULL DEFAULT '{}', "body" TEXT NOT NULL DEFAULT '', ` +
      `"created_at" ${pg ? 'BIGINT' : 'INTEGER'} NOT NULL, PRIMARY KEY ("scope", "key"))`,
    [],
  );
}
