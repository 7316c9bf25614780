import { randomInt } from 'node:crypto';
import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { RecordWrite, WriteAction, WriteCause } from './plugins.js';
import { etagListHas, etagOf, type RecordsDeps } from './read.js';
import type { CollectionRuntime } from './runtime.js';
import { inSession, type WriteSession } from './session.js';
import type { ApiRecord, FieldErrors, RequestInfo, UploadedFile } from './types.js';
import { constraintErrors, missingRelations } from './write.js';

/**
 * The stages every record write goes through, whatever asked for it (REST, batch, the admin
 * panel, hooks' data API, the CLI, a cascade):
 *
 *   parse → validate → rule → before (hooks) → prepare (files) → rows → written → commit
 *         → committed (after-hooks, realtime, file clean-up) → respond
 *
 * create.ts, update.ts and delete.ts run the first three, which differ per action, then hand the
 * write to `runStages` here for the rest. Plugins (plugins.ts) add handlers to the named stages.
 */

export interface WriteOptions {
  /** If-Match: the version the client last saw ('*' = any existing record). */
  ifMatch?: string | null;
  /** Files uploaded with the request (multipart). */
  uploads?: UploadedFile[];
}

export function writable(rt: CollectionRuntime): void {
  if (rt.collection.type === 'view') throw new AppError('unsupported_collection_type');
}

/** A rule that is locked (null) admits superusers only: anybody else is refused before any lookup. */
export function locked(rule: unknown): boolean {
  return rule === null || rule === undefined;
}

/** Runs `fn` in the caller's unit of work or a new one; `fn` gets the deps bound to its transaction. */
export function withSession<T>(deps: RecordsDeps, fn: (deps: RecordsDeps & { session: WriteSession }) => Promise<T>): Promise<T> {
  return inSession({ runner: deps.runner, session: deps.session, report: deps.runtime.report }, (session) =>
    fn({ runtime: deps.runtime, runner: session.tx, session }),
  );
}

export function newWrite(
  action: WriteAction,
  rt: CollectionRuntime,
  record: ApiRecord,
  original: ApiRecord | null,
  changed: Set<string>,
  info: RequestInfo,
  session: WriteSession,
  extra: { uploads?: readonly UploadedFile[]; cause?: WriteCause } = {},
): RecordWrite {
  return { action, rt, record, original, changed, info, session, uploads: extra.uploads ?? [], cause: extra.cause ?? 'request', state: new Map() };
}

/**
 * The stages after the rule check, inside the write's transaction: undo work registered first (so
 * a failure anywhere below rolls the plugins' side effects back), the `before` chain (hooks), then
 * `prepare`, the rows, `written`, and the `committed` work queued for after the commit.
 */
export async function runStages(w: RecordWrite, writeRows: () => Promise<void>): Promise<void> {
  const stages = w.rt.stages[w.action];
  for (const undo of stages.rolledBack) w.session.onRollback(() => undo(w));
  // The last `before` handler's next() is the write itself, so code after `await e.next()` in a
  // hook sees the row written (still inside the transaction), as in PocketBase.
  const write = async () => {
    for (const prepare of stages.prepare) await prepare(w);
    await writeRows();
    for (const written of stages.written) await written(w);
  };
  if (stages.before.length > 0) await runBefore(stages.before, w, write);
  else await write();
  for (const committed of stages.committed) w.session.afterCommit(() => committed(w));
}

/** A `before` handler that returned without calling `next()`: the write cannot go on (a bug in a hook). */
export class IncompleteChainError extends Error {}

async function runBefore(handlers: RecordWrite['rt']['stages']['create']['before'], w: RecordWrite, write: () => Promise<void>): Promise<void> {
  let reached = false;
  const step = async (i: number): Promise<void> => {
    if (i === handlers.length) {
      reached = true;
      return write();
    }
    await handlers[i]!(w, () => step(i + 1));
  };
  await step(0);
  if (!reached) throw new IncompleteChainError(`a before-${w.action} handler of ${w.rt.collection.name} returned without calling next(): the write was not saved`);
}

/**
 * Every field problem of a record at once (PocketBase validates all fields together): the field
 * validators, then relation ids that point at no record. Form-level problems (auth password
 * confirmation, email/verified changes) are answered before this, alone, as PocketBase does.
 */
export async function fieldErrors(
  deps: RecordsDeps,
  rt: CollectionRuntime,
  values: ApiRecord,
  ctx: {
    isNew: boolean;
    changed: Set<string>;
    newPassword?: string | undefined;
    otherPasswords?: Record<string, string> | undefined;
    existing: ApiRecord | null;
    uploads?: readonly UploadedFile[] | undefined;
  },
): Promise<FieldErrors> {
  const errors = rt.validate(values, ctx);
  const missing = await missingRelations(deps.runner, rt, values, ctx.changed, (cid) => deps.runtime.byId.get(cid));
  for (const [field, error] of Object.entries(missing)) errors[field] ??= error;
  return errors;
}

/** If-Match: `*` or one of the listed ETags must match the stored version, else 412. */
export function checkIfMatch(ifMatch: string | null | undefined, version: string | null): void {
  if (ifMatch === undefined || ifMatch === null) return;
  if (typeof ifMatch !== 'string') throw new AppError('bad_request', 'If-Match must be a string.');
  if (ifMatch.trim() === '*') return;
  if (version === null || !etagListHas(ifMatch, etagOf(version))) throw new AppError('precondition_failed');
}

export function setAutodates(rt: CollectionRuntime, values: ApiRecord, changed: Set<string> | null, now: string, isNew: boolean): void {
  for (const f of rt.collection.fields) {
    if (f.type !== 'autodate') continue;
    if ((isNew && f['onCreate']) || f['onUpdate']) {
      values[f.name] = now;
      changed?.add(f.name);
    }
  }
}

/**
 * A new password or email invalidates every token of the record (§7.2): its tokenKey, part of
 * each token's signing key, is regenerated unless the same write sets one itself.
 */
export function rotateTokenKey(rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, existing: ApiRecord): void {
  if (rt.collection.type !== 'auth' || changed.has('tokenKey')) return;
  const emailChanged = changed.has('email') && String(values['email'] ?? '') !== String(existing['email'] ?? '');
  if (!changed.has('password') && !emailChanged) return;
  values['tokenKey'] = newTokenKey();
  changed.add('tokenKey');
}

/** PocketBase's tokenKey pattern: 50 characters of [a-zA-Z0-9]. */
export function newTokenKey(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let key = '';
  for (let i = 0; i < 50; i++) key += alphabet[randomInt(alphabet.length)];
  return key;
}

/** Runs a row write, turning unique and foreign-key violations into PocketBase's field errors. */
export async function guardConstraints(rt: CollectionRuntime, tx: SqlRunner, code: 'create_failed' | 'update_failed', write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    const errors: FieldErrors | null = constraintErrors(err, rt, tx.dialect);
    if (errors) throw new AppError(code, undefined, errors, { cause: err });
    throw err;
  }
}
