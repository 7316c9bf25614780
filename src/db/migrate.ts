import { AppError } from '../errors/index.js';
import type { Schema } from '../schema/index.js';
import type { Database } from './connect.js';
import { dialectFor, type Dialect } from './dialects/index.js';
import type { Executor } from './executor.js';
import { createHistoryTableSql, HISTORY_TABLE, lastSnapshot, recordMigration } from './history.js';
import { planMigration } from './plan.js';
import { ensureSystemTables } from './system-tables.js';
import { destructiveSteps, type Plan, type PlanStep } from './plan-types.js';
import { inMigrationTransaction, runnerExecutor } from './transaction.js';

export interface MigrateOptions {
  /** false: plan only, change nothing. */
  apply: boolean;
  allowDestructive: boolean;
  /** Test seam: called before each step runs (throw to simulate a failure halfway). */
  beforeStep?: (step: PlanStep, index: number) => void | Promise<void>;
}

export interface MigrateResult {
  plan: Plan;
  /** True when this call changed the database (steps ran or a new snapshot was recorded). */
  applied: boolean;
}

/** A plan with destructive steps that was not allowed to run; carries the plan for the message. */
export class MigrationRefusedError extends AppError {
  readonly plan: Plan;
  constructor(plan: Plan) {
    const lines = destructiveSteps(plan).map((s) => `  - ${s.summary}${s.loss ? `: would lose ${s.loss}` : ''}`);
    super('migration_refused', `The migration plan has destructive steps:\n${lines.join('\n')}\nReview them with \`galley migrate --plan\`, then run \`galley migrate --allow-destructive\` to apply them.`);
    this.plan = plan;
  }
}

export class MigrationFailedError extends AppError {
  constructor(step: PlanStep, cause: unknown) {
    super('migration_failed', `Migration step "${step.summary}" failed: ${(cause as Error).message}. Nothing was changed.`, {}, { cause });
  }
}

/**
 * Plans and (optionally) applies the migration from the live database to `schema`,
 * in one transaction under the engine's migration lock; a concurrent migrator waits,
 * then plans again and finds nothing to do.
 */
export async function migrate(db: Database, schema: Schema, options: MigrateOptions): Promise<MigrateResult> {
  const dialect = dialectFor(db.dialect);
  const current = await upToDate(db, dialect, schema);
  if (current) return { plan: current, applied: false };
  return inMigrationTransaction(db, async (exec) => {
    // Lock first: concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL (duplicate pg_type entry).
    await dialect.lock(exec);
    await exec.run(createHistoryTableSql(db.dialect));
    await ensureSystemTables({ dialect: db.dialect, run: async (sql, params) => (await exec.run(sql, [...params]), 0) });
    const last = await lastSnapshot(exec);
    const plan = await planMigration(exec, dialect, schema, last?.collections ?? null);
    if (!options.apply) throw new PlanOnly(plan);
    if (destructiveSteps(plan).length > 0 && !options.allowDestructive) throw new MigrationRefusedError(plan);
    await runSteps(exec, plan, options);
    const changed = plan.steps.length > 0 || last?.checksum !== schema.checksum;
    if (changed) await recordMigration(exec, plan, schema.collections);
    return { plan, applied: changed };
  }).catch((err: unknown) => {
    if (err instanceof PlanOnly) return { plan: err.plan, applied: false };
    throw err;
  });
}

/**
 * Most starts find the database as the files describe it. That is checked first, read-only, on the
 * driver-level runner: knex and the migration lock are needed only when there is something to apply
 * (on a 200-collection start, loading knex was ~0.1 s of CPU and ~15 MB). Returns the empty plan,
 * or null when the migration must run — steps to apply, a new snapshot to record, no history yet —
 * or when this check cannot tell (it then leaves the answer to the migration itself).
 */
async function upToDate(db: Database, dialect: Dialect, schema: Schema): Promise<Plan | null> {
  try {
    return await db.runner().transaction(async (tx) => {
      // One snapshot for every query (PostgreSQL); SQLite's BEGIN IMMEDIATE waits for a running migration.
      if (db.dialect === 'postgres') await tx.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY', []);
      const exec = runnerExecutor(tx);
      const live = await dialect.introspect(exec);
      if (!live.tables.has(HISTORY_TABLE)) return null;
      const last = await lastSnapshot(exec);
      if (!last || last.checksum !== schema.checksum) return null;
      const plan = await planMigration(exec, dialect, schema, last.collections, live);
      return plan.steps.length === 0 ? plan : null;
    });
  } catch {
    return null;
  }
}

/** Unwinds the transaction after planning only, so even the history table is not left behind. */
class PlanOnly extends Error {
  constructor(readonly plan: Plan) {
    super('plan only');
  }
}

async function runSteps(exec: Executor, plan: Plan, options: MigrateOptions): Promise<void> {
  for (const [i, step] of plan.steps.entries()) {
    try {
      await options.beforeStep?.(step, i);
      for (const sql of step.sql) await exec.run(sql);
    } catch (err) {
      throw new MigrationFailedError(step, err);
    }
  }
}
