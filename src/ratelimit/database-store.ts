import type { ClientRateLimitInfo, Logger, Options, Store } from 'express-rate-limit';
import { RATE_LIMITS_TABLE, type Row, type SqlRunner } from '../db/index.js';

const T = `"${RATE_LIMITS_TABLE}"`;
const DEFAULT_WINDOW_MS = 60_000;
/** Expired rows are harmless (the upsert restarts them) but would pile up; one DELETE a minute per limiter keeps the table small. */
export const PRUNE_INTERVAL_MS = 60_000;

/**
 * One fixed window per key, restarted by the first hit after it ended. A single upsert so that
 * concurrent hits (from any node) each see their own count: PostgreSQL locks the row, SQLite has
 * one writer. Columns are qualified because PostgreSQL sees both the row and `excluded`.
 */
const INCREMENT_SQL =
  `INSERT INTO ${T} ("key", "hits", "reset_at") VALUES (?, 1, ?) ON CONFLICT ("key") DO UPDATE SET ` +
  `"hits" = CASE WHEN ${T}."reset_at" <= ? THEN 1 ELSE ${T}."hits" + 1 END, ` +
  `"reset_at" = CASE WHEN ${T}."reset_at" <= ? THEN excluded."reset_at" ELSE ${T}."reset_at" END ` +
  `RETURNING "hits", "reset_at"`;

/**
 * An express-rate-limit store in `_galley_rate_limits`, so every node counts against the same rows.
 * Times are this node's clock (epoch ms): nodes are expected to run NTP, and skew only shifts a window's end.
 */
class DatabaseStore implements Store {
  /** The counts live in the database: another instance (another node) sees the same keys. */
  readonly localKeys = false;
  private windowMs = DEFAULT_WINDOW_MS;
  private logger: Logger | undefined;
  private nextPruneAt = 0;

  constructor(
    private readonly runner: SqlRunner,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
    this.logger = options.logger;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const now = Date.now();
    await this.pruneNowAndThen(now);
    const rows = await this.runner.all(INCREMENT_SQL, [this.prefix + key, now + this.windowMs, now, now]);
    return info(rows[0]!);
  }

  async decrement(key: string): Promise<void> {
    // Only within the window: after it ended the row belongs to the next window (or is about to).
    await this.runner.run(`UPDATE ${T} SET "hits" = "hits" - 1 WHERE "key" = ? AND "hits" > 0 AND "reset_at" > ?`, [this.prefix + key, Date.now()]);
  }

  async resetKey(key: string): Promise<void> {
    await this.runner.run(`DELETE FROM ${T} WHERE "key" = ?`, [this.prefix + key]);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const rows = await this.runner.all(`SELECT "hits", "reset_at" FROM ${T} WHERE "key" = ? AND "reset_at" > ?`, [this.prefix + key, Date.now()]);
    return rows[0] && info(rows[0]);
  }

  /** Any expired row goes, whichever limiter wrote it; a failure only delays the cleanup, never the request. */
  private async pruneNowAndThen(now: number): Promise<void> {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    try {
      await this.runner.run(`DELETE FROM ${T} WHERE "reset_at" < ?`, [now]);
    } catch (err) {
      this.logger?.warn(err, 'rate limits: pruning expired counters failed');
    }
  }
}

/** PostgreSQL returns BIGINT as a string. */
function info(row: Row): ClientRateLimitInfo {
  return { totalHits: Number(row['hits']), resetTime: new Date(Number(row['reset_at'])) };
}

export function databaseStore(runner: SqlRunner, prefix: string): Store {
  return new DatabaseStore(runner, prefix);
}
