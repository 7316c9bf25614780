import type { SqlRunner } from './runner.js';
import { RATE_LIMITS_TABLE } from './system-tables.js';

/**
 * Fixed-window counters in `_galley_rate_limits`, shared by every node: the rate limiter's database
 * store and the per-record auth throttles (resend, OTP attempts) count here. Times are this node's
 * clock (epoch ms): nodes are expected to run NTP, and skew only shifts a window's end.
 */
const T = `"${RATE_LIMITS_TABLE}"`;

/**
 * One upsert, so concurrent hits (from any node) each see their own count: PostgreSQL locks the row,
 * SQLite has one writer. The first hit after a window ended starts a new one. Columns are qualified
 * because PostgreSQL sees both the row and `excluded`.
 */
const HIT_SQL =
  `INSERT INTO ${T} ("key", "hits", "reset_at") VALUES (?, 1, ?) ON CONFLICT ("key") DO UPDATE SET ` +
  `"hits" = CASE WHEN ${T}."reset_at" <= ? THEN 1 ELSE ${T}."hits" + 1 END, ` +
  `"reset_at" = CASE WHEN ${T}."reset_at" <= ? THEN excluded."reset_at" ELSE ${T}."reset_at" END ` +
  `RETURNING "hits", "reset_at"`;

export interface CounterState {
  hits: number;
  /** Epoch ms when the window ends. */
  resetAt: number;
}

/** Counts one hit in the key's current window (a new window of `windowMs` if none is running). */
export async function hitCounter(runner: SqlRunner, key: string, windowMs: number, now = Date.now()): Promise<CounterState> {
  const rows = await runner.all(HIT_SQL, [key, now + windowMs, now, now]);
  return stateOf(rows[0]!);
}

/** Takes one hit back, within the window only (after it, the row belongs to the next window). */
export async function unhitCounter(runner: SqlRunner, key: string, now = Date.now()): Promise<void> {
  await runner.run(`UPDATE ${T} SET "hits" = "hits" - 1 WHERE "key" = ? AND "hits" > 0 AND "reset_at" > ?`, [key, now]);
}

export async function readCounter(runner: SqlRunner, key: string, now = Date.now()): Promise<CounterState | undefined> {
  const rows = await runner.all(`SELECT "hits", "reset_at" FROM ${T} WHERE "key" = ? AND "reset_at" > ?`, [key, now]);
  return rows[0] && stateOf(rows[0]);
}

export async function clearCounter(runner: SqlRunner, key: string): Promise<void> {
  await runner.run(`DELETE FROM ${T} WHERE "key" = ?`, [key]);
}

/** Removes every ended window, whoever wrote it. */
export async function pruneCounters(runner: SqlRunner, now = Date.now()): Promise<void> {
  await runner.run(`DELETE FROM ${T} WHERE "reset_at" < ?`, [now]);
}

/** PostgreSQL returns BIGINT as a string. */
function stateOf(row: Record<string, unknown>): CounterState {
  return { hits: Number(row['hits']), resetAt: Number(row['reset_at']) };
}
