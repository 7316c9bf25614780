import type { Collection } from '../schema/index.js';
import type { CollectionRuntime } from './runtime.js';
import type { WriteSession } from './session.js';
import type { ApiRecord, RequestInfo, UploadedFile } from './types.js';

export type WriteAction = 'create' | 'update' | 'delete';

/** Why a write happens: a client's request (REST, batch, admin, hooks' data API, CLI), or a cascade of another write. */
export type WriteCause = 'request' | 'cascade';

/**
 * One record write on its way through the pipeline (parse → validate → rule → before → prepare →
 * rows → written → commit → committed). Plugins (hooks, files, realtime) read it at their stages;
 * only `before` handlers may change `record`.
 */
export interface RecordWrite {
  readonly action: WriteAction;
  readonly rt: CollectionRuntime;
  /** The record to store (create, update; API value form) or the record being deleted. */
  record: ApiRecord;
  /** The stored record before an update or a delete; null on create. */
  readonly original: ApiRecord | null;
  /** The fields this write sets (for a delete: none). */
  readonly changed: Set<string>;
  /** Who asked: the requester of the request behind the write (a cascade keeps it). */
  readonly info: RequestInfo;
  /** Files uploaded with the write (multipart parts named after a file field, `f+` or `+f`). */
  readonly uploads: readonly UploadedFile[];
  readonly cause: WriteCause;
  /** The unit of work the write belongs to: its transaction, after-commit and undo work. */
  readonly session: WriteSession;
  /** Scratch state of the plugins for this write (e.g. who may see a deleted record), keyed by plugin. */
  readonly state: Map<object, unknown>;
}

/** What a plugin adds to one stage of the pipeline. */
export interface StageHandlers {
  /**
   * Inside the transaction, after validation and the rule check, before anything is written:
   * may change `w.record` and must call `next()` to go on (throwing rolls the write back).
   */
  before?(w: RecordWrite, next: () => Promise<void>): Promise<void>;
  /** Inside the transaction, just before the row is written (create, update) or deleted (delete: the row is still there). */
  prepare?(w: RecordWrite): Promise<void>;
  /** Inside the transaction, right after the row was written or deleted. */
  written?(w: RecordWrite): Promise<void>;
  /** After the commit, in plugin order; an error is logged and never changes the response. */
  committed?(w: RecordWrite): void | Promise<void>;
  /** After the write's transaction (or savepoint) rolled back: undo side effects outside the database. */
  rolledBack?(w: RecordWrite): void | Promise<void>;
}

/**
 * A part of the product that plugs into the one write pipeline (files, hooks, realtime). It says
 * once per collection and action, when the collections load, which handlers it adds, so a
 * collection nobody hooks into pays nothing per write.
 */
export interface WritePlugin {
  readonly name: string;
  handlersFor(collection: Collection, action: WriteAction): StageHandlers | null;
}

type Handler<K extends keyof StageHandlers> = NonNullable<StageHandlers[K]>;

/** One collection's pipeline for one action, compiled at load. */
export interface CompiledStages {
  before: Handler<'before'>[];
  prepare: Handler<'prepare'>[];
  written: Handler<'written'>[];
  committed: Handler<'committed'>[];
  rolledBack: Handler<'rolledBack'>[];
  /** Whether a plugin works inside the transaction: the single-statement create is then not enough. */
  inTransaction: boolean;
}

export const WRITE_ACTIONS: readonly WriteAction[] = ['create', 'update', 'delete'];

export function compileStages(plugins: readonly WritePlugin[], collection: Collection, action: WriteAction): CompiledStages {
  const stages: CompiledStages = { before: [], prepare: [], written: [], committed: [], rolledBack: [], inTransaction: false };
  for (const plugin of plugins) {
    const h = plugin.handlersFor(collection, action);
    if (!h) continue;
    if (h.before) stages.before.push(h.before.bind(h));
    if (h.prepare) stages.prepare.push(h.prepare.bind(h));
    if (h.written) stages.written.push(h.written.bind(h));
    if (h.committed) stages.committed.push(h.committed.bind(h));
    if (h.rolledBack) stages.rolledBack.push(h.rolledBack.bind(h));
  }
  stages.inTransaction = stages.before.length + stages.prepare.length + stages.written.length + stages.rolledBack.length > 0;
  return stages;
}
