import { isRetryableTransactionError, type SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';

type Callback = () => void | Promise<void>;

/** Reports an error of after-commit or undo work, which must never change the response. */
export type ErrorReporter = (err: unknown, what: string) => void;

/**
 * One unit of work of the write pipeline: the transaction that every write of a request joins
 * (the sub-requests of a batch, a hook's nested writes, the records a cascade deletes or updates),
 * and what must happen once it ends: after-commit work (after-hooks, realtime events, removing
 * replaced files) when it commits, undo work for side effects outside the database (stored
 * uploads) when it rolls back.
 */
export class WriteSession {
  private committed: Callback[] = [];
  private rolledBack: Callback[] = [];
  private savepoints = 0;
  /** `collectionId/id` of the records this session is deleting: a cascade skips references they hold. */
  readonly deleting = new Set<string>();

  constructor(
    readonly tx: SqlRunner,
    private readonly report: ErrorReporter,
  ) {}

  /** Runs `fn` once the transaction has committed, in registration order. */
  afterCommit(fn: Callback): void {
    this.committed.push(fn);
  }

  /** Runs `fn` if the transaction (or the savepoint in which it was registered) rolls back. */
  onRollback(fn: Callback): void {
    this.rolledBack.push(fn);
  }

  /**
   * Runs `fn` inside a savepoint: when it throws, what it wrote is undone (its undo work runs, its
   * after-commit work is dropped) while the rest of the transaction goes on.
   */
  async savepoint<T>(fn: () => Promise<T>): Promise<T> {
    const name = `galley_sp_${++this.savepoints}`;
    const outer = { committed: this.committed, rolledBack: this.rolledBack };
    this.committed = [];
    this.rolledBack = [];
    await this.tx.run(`SAVEPOINT ${name}`, []);
    try {
      const result = await fn();
      await this.tx.run(`RELEASE SAVEPOINT ${name}`, []);
      outer.committed.push(...this.committed);
      outer.rolledBack.push(...this.rolledBack);
      return result;
    } catch (err) {
      await this.tx.run(`ROLLBACK TO SAVEPOINT ${name}`, []);
      await this.tx.run(`RELEASE SAVEPOINT ${name}`, []);
      const undo = this.rolledBack;
      this.committed = outer.committed;
      this.rolledBack = outer.rolledBack;
      await runAll(undo.reverse(), this.report, 'rollback');
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  /** @internal after COMMIT: the after-commit work, each failure reported on its own. */
  async commitDone(): Promise<void> {
    const work = this.committed;
    this.committed = [];
    this.rolledBack = [];
    await runAll(work, this.report, 'after commit');
  }

  /** @internal after ROLLBACK: the undo work, newest first. */
  async rollbackDone(): Promise<void> {
    const undo = this.rolledBack;
    this.committed = [];
    this.rolledBack = [];
    await runAll(undo.reverse(), this.report, 'rollback');
  }
}

async function runAll(callbacks: Callback[], report: ErrorReporter, what: string): Promise<void> {
  for (const fn of callbacks) {
    try {
      await fn();
    } catch (err) {
      report(err, what);
    }
  }
}

/** How often a transaction PostgreSQL aborted (deadlock, serialization) is run again. */
const MAX_ATTEMPTS = 6;

export interface SessionDeps {
  runner: SqlRunner;
  /** Set when the caller already runs inside a unit of work: the new writes join it. */
  session?: WriteSession;
  report: ErrorReporter;
}

/**
 * Runs `fn` in a unit of work: the caller's when it has one, else a new transaction. A
 * transaction PostgreSQL aborts to break a deadlock is undone and run again with a growing,
 * jittered back-off; one that keeps failing is a 409 `write_conflict`, never a 500. After-commit
 * work runs once the commit succeeded, before this resolves.
 */
export async function inSession<T>(deps: SessionDeps, fn: (session: WriteSession) => Promise<T>): Promise<T> {
  if (deps.session) return fn(deps.session);
  for (let attempt = 1; ; attempt++) {
    let session: WriteSession | null = null;
    let result: T;
    try {
      result = await deps.runner.transaction((tx) => fn((session = new WriteSession(tx, deps.report))));
    } catch (err) {
      await (session as WriteSession | null)?.rollbackDone();
      if (!isRetryableTransactionError(err)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw new AppError('write_conflict', undefined, {}, { cause: err });
      await backOff(attempt);
      continue;
    }
    await session!.commitDone();
    return result;
  }
}

function backOff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
