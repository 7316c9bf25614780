import type { ClientRateLimitInfo, Logger, Options, Store } from 'express-rate-limit';
import { clearCounter, hitCounter, pruneCounters, readCounter, unhitCounter, type CounterState, type SqlRunner } from '../db/index.js';

const DEFAULT_WINDOW_MS = 60_000;
/** Expired rows are harmless (the upsert restarts them) but would pile up; one DELETE a minute per limiter keeps the table small. */
export const PRUNE_INTERVAL_MS = 60_000;

/**
 * An express-rate-limit store on the database's fixed-window counters (`_galley_rate_limits`, see
 * db/counters.ts), so every node counts against the same rows.
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
    return info(await hitCounter(this.runner, this.prefix + key, this.windowMs, now));
  }

  async decrement(key: string): Promise<void> {
    await unhitCounter(this.runner, this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await clearCounter(this.runner, this.prefix + key);
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const state = await readCounter(this.runner, this.prefix + key);
    return state && info(state);
  }

  /** Any expired row goes, whichever limiter wrote it; a failure only delays the cleanup, never the request. */
  private async pruneNowAndThen(now: number): Promise<void> {
    if (now < this.nextPruneAt) return;
    this.nextPruneAt = now + PRUNE_INTERVAL_MS;
    try {
      await pruneCounters(this.runner, now);
    } catch (err) {
      this.logger?.warn(err, 'rate limits: pruning expired counters failed');
    }
  }
}

function info(state: CounterState): ClientRateLimitInfo {
  return { totalHits: state.hits, resetTime: new Date(state.resetAt) };
}

export function databaseStore(runner: SqlRunner, prefix: string): Store {
  return new DatabaseStore(runner, prefix);
}
