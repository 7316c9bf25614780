import type { Collection } from '../schema/index.js';
import { decodeDate } from './codec.js';
import type { DialectName } from './dialects/index.js';
import type { Executor } from './executor.js';
import type { Plan } from './plan-types.js';

export const HISTORY_TABLE = '_galley_migrations';

export function createHistoryTableSql(dialect: DialectName): string {
  const id = dialect === 'postgres' ? 'bigserial PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  const when = dialect === 'postgres' ? 'timestamptz NOT NULL DEFAULT now()' : "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ', 'now'))";
  return `CREATE TABLE IF NOT EXISTS "${HISTORY_TABLE}" ("id" ${id}, "applied_at" ${when}, "checksum" TEXT NOT NULL, "plan" TEXT NOT NULL, "sql" TEXT NOT NULL, "snapshot" TEXT NOT NULL)`;
}

export interface HistoryEntry {
  id: number;
  appliedAt: string;
  checksum: string;
  plan: Plan;
  sql: string;
}

export async function lastSnapshot(exec: Executor): Promise<{ checksum: string; collections: Collection[] } | null> {
  const rows = await exec.all(`SELECT "checksum", "snapshot" FROM "${HISTORY_TABLE}" ORDER BY "id" DESC LIMIT 1`);
  const row = rows[0];
  return row ? { checksum: String(row['checksum']), collections: JSON.parse(String(row['snapshot'])) as Collection[] } : null;
}

export async function recordMigration(exec: Executor, plan: Plan, collections: Collection[]): Promise<void> {
  const sql = plan.steps.flatMap((s) => s.sql.map((x) => `${x};`)).join('\n');
  await exec.run(`INSERT INTO "${HISTORY_TABLE}" ("checksum", "plan", "sql", "snapshot") VALUES (?, ?, ?, ?)`, [
    plan.checksum,
    JSON.stringify(plan.steps.map(({ kind, risk, target, summary, loss }) => ({ kind, risk, target, summary, ...(loss ? { loss } : {}) }))),
    sql,
    JSON.stringify(collections),
  ]);
}

export async function readHistory(exec: Executor): Promise<HistoryEntry[]> {
  const rows = await exec.all(`SELECT "id", "applied_at", "checksum", "plan", "sql" FROM "${HISTORY_TABLE}" ORDER BY "id"`);
  return rows.map((r) => ({
    id: Number(r['id']),
    appliedAt: decodeDate(r['applied_at']),
    checksum: String(r['checksum']),
    plan: { steps: JSON.parse(String(r['plan'])), drift: [], notes: [], checksum: String(r['checksum']) } as Plan,
    sql: String(r['sql']),
  }));
}

/** How many migrations this database has recorded (0 before the first), for metrics. */
export async function countMigrations(exec: { all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> }): Promise<number> {
  const rows = await exec.all(`SELECT COUNT(*) AS "n" FROM "${HISTORY_TABLE}"`, []);
  return Number(rows[0]?.['n'] ?? 0);
}
