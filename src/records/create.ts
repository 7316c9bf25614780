import { AppError } from '../errors/index.js';
import { hashPassword } from '../passwords/index.js';
import { fmt, sql, type Sql } from '../query/index.js';
import { formatDate } from '../schema/index.js';
import { ruleSql } from './access.js';
import { authIdError } from './auth-id.js';
import { canManageValues } from './manage.js';
import { fieldErrors, guardConstraints, locked, newWrite, runStages, setAutodates, withSession, writable, type WriteOptions } from './pipeline.js';
import { findRuntime, loadOne, respond, type RecordQuery, type RecordResult, type RecordsDeps } from './read.js';
import { versionOf, type CollectionRuntime } from './runtime.js';
import { WriteSession } from './session.js';
import type { ApiRecord, FieldErrors, RequestInfo, UploadedFile } from './types.js';
import { virtualRow } from './virtual-row.js';
import { insertRow } from './write.js';

/** Create: parse → validate → createRule → the shared stages (pipeline.ts) → respond. */
export async function createRecord(deps: RecordsDeps, collection: string, data: Record<string, unknown>, query: RecordQuery, info: RequestInfo, options: WriteOptions = {}): Promise<RecordResult> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  if (!info.superuser && locked(rt.rules.createRule)) throw new AppError('forbidden');
  const input = rt.resolveInput(data, { existing: null, superuser: info.superuser, canManage: false });
  if (!info.superuser && hasManagerOnlyKeys(rt, data) && (await canManageValues(deps, rt, input.values, { ...info, body: input.body }))) {
    // Resolved again as a manager: `verified` may be set (the rule saw the submitted values).
    Object.assign(input, rt.resolveInput(data, { existing: null, superuser: false, canManage: true }));
  }
  const requestInfo: RequestInfo = { ...info, body: input.body };
  if (Object.keys(input.errors).length > 0) throw await createRefusal(deps, rt, input.values, requestInfo, input.errors);
  setAutodates(rt, input.values, null, formatDate(new Date()), true);
  if (rt.collection.name === '_superusers') input.values['verified'] = true;
  const validation = { isNew: true, changed: input.changed, newPassword: input.newPassword, otherPasswords: input.otherPasswords, existing: null, uploads: options.uploads };
  const errors = await fieldErrors(deps, rt, input.values, validation);
  if (Object.keys(errors).length > 0) throw await createRefusal(deps, rt, input.values, requestInfo, errors);
  const authIdTaken = await authIdError(deps.runner, deps.runtime, rt, String(input.values['id']));
  if (authIdTaken) throw await createRefusal(deps, rt, input.values, requestInfo, authIdTaken);
  if (input.newPassword !== undefined) input.values['password'] = await hashPassword(input.newPassword);
  for (const [name, plain] of Object.entries(input.otherPasswords ?? {})) input.values[name] = await hashPassword(plain);
  const rule = ruleSql(deps.runtime, rt, 'createRule', requestInfo);
  const stages = rt.stages.create;
  if (!rule && rt.junctions.length === 0 && !stages.inTransaction && !deps.session && !options.uploads?.length) {
    return createInOneStatement(deps, rt, input.values, input.changed, query, info);
  }
  return withSession(deps, async (tx) => {
    const id = String(input.values['id']);
    const w = newWrite('create', rt, input.values, null, input.changed, info, tx.session, { uploads: options.uploads ?? [] });
    // Hooks run after the rule passed and see no row yet: the rule is checked on a probe insert
    // that is rolled back (PocketBase's dry submit). Without hooks the insert itself is checked.
    const hooked = stages.before.length > 0;
    if (rule && hooked) await probeRule(tx, rt, w.record, rule);
    const submitted = hooked ? JSON.stringify(w.record) : '';
    // Without junction rows the stored row comes back from the INSERT itself.
    const returning = rt.junctions.length === 0;
    let row: Record<string, unknown> | undefined;
    await runStages(w, async () => {
      if (hooked && JSON.stringify(w.record) !== submitted) await revalidate(tx, rt, w.record, input.changed, w.uploads);
      await guardConstraints(rt, tx.runner, 'create_failed', async () => {
        row = await insertRow(tx.runner, rt, w.record, returning);
      });
      if (rule && !hooked && !(await satisfiesRule(tx, rt, id, rule))) throw new AppError('create_failed');
    });
    const stored = row ? { presentable: { rt, record: rt.decode(row) }, version: versionOf(row) } : await loadOne(tx, rt, id, null);
    return respond(tx, stored!.presentable, stored!.version, query, info);
  });
}

/**
 * A record Galley writes for itself with final values (OTP codes, MFA sessions): no parse,
 * validation or rule, but the same stages as every write (hooks, realtime), so nothing reaches
 * around the pipeline. Autodates are set; the caller gives the id.
 */
export async function insertFinalRecord(deps: RecordsDeps, collection: string, values: ApiRecord, info: RequestInfo): Promise<ApiRecord> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  const record = { ...values };
  setAutodates(rt, record, null, formatDate(new Date()), true);
  const changed = new Set(Object.keys(record));
  if (rt.junctions.length === 0 && !rt.stages.create.inTransaction && !deps.session) return (await createInOneStatement(deps, rt, record, changed, {}, info)).record;
  return withSession(deps, async (tx) => {
    const w = newWrite('create', rt, record, null, changed, info, tx.session);
    await runStages(w, () => guardConstraints(rt, tx.runner, 'create_failed', () => insertRow(tx.runner, rt, w.record).then(() => {})));
    return w.record;
  });
}

/**
 * The common create (no rule to check on the stored row, no junction rows, no plugin working
 * inside a transaction): one `INSERT ... RETURNING`, no transaction. On PostgreSQL a relation id
 * deleted since validation is the foreign key's error, mapped to the field.
 */
async function createInOneStatement(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, query: RecordQuery, info: RequestInfo): Promise<RecordResult> {
  const session = new WriteSession(deps.runner, deps.runtime.report); // autocommit: its one statement is the transaction
  const w = newWrite('create', rt, values, null, changed, info, session);
  let row: Record<string, unknown> | undefined;
  await runStages(w, () =>
    guardConstraints(rt, deps.runner, 'create_failed', async () => {
      row = await insertRow(deps.runner, rt, values, true);
    }),
  );
  const result = await respond(deps, { rt, record: rt.decode(row!) }, versionOf(row!), query, info);
  await session.commitDone();
  return result;
}

async function satisfiesRule(deps: RecordsDeps, rt: CollectionRuntime, id: string, rule: Sql): Promise<boolean> {
  const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${rule}`;
  return (await deps.runner.all(check.text, [id, ...check.values])).length > 0;
}

class ProbeDone extends Error {}

/** Inserts the record in a savepoint, checks the createRule on it, and undoes the insert either way. */
async function probeRule(deps: RecordsDeps & { session: WriteSession }, rt: CollectionRuntime, values: ApiRecord, rule: Sql): Promise<void> {
  let allowed = false;
  await deps.session
    .savepoint(async () => {
      await guardConstraints(rt, deps.runner, 'create_failed', () => insertRow(deps.runner, rt, values).then(() => {}));
      allowed = await satisfiesRule(deps, rt, String(values['id']), rule);
      throw new ProbeDone();
    })
    .catch((err: unknown) => {
      if (!(err instanceof ProbeDone)) throw err;
    });
  if (!allowed) throw new AppError('create_failed');
}

/** A before-hook may change the record: what it stores is validated like what a client sends. */
async function revalidate(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, changed: Set<string>, uploads: readonly UploadedFile[]): Promise<void> {
  for (const field of rt.collection.fields) changed.add(field.name);
  const errors = await fieldErrors(deps, rt, values, { isNew: true, changed, existing: null, uploads });
  if (Object.keys(errors).length > 0) throw new AppError('create_failed', undefined, errors);
}

/**
 * A create that cannot be saved: PocketBase checks the createRule first, so a requester the rule
 * refuses learns nothing from field errors. The rule is evaluated on a virtual row of the submitted
 * values (multiple relations are not visible to it there; the real check runs on the inserted row).
 */
async function createRefusal(deps: RecordsDeps, rt: CollectionRuntime, values: ApiRecord, info: RequestInfo, errors: FieldErrors): Promise<AppError> {
  const rule = ruleSql(deps.runtime, rt, 'createRule', info);
  if (rule) {
    const row = virtualRow(rt, values, deps.runner.dialect);
    const check = fmt`SELECT 1 AS "ok" FROM (${row}) r WHERE ${rule}`;
    if ((await deps.runner.all(check.text, check.values)).length === 0) return new AppError('create_failed');
  }
  return new AppError('create_failed', undefined, errors);
}

/** Keys only a manager may send on create (email/password are anyone's on create). */
function hasManagerOnlyKeys(rt: CollectionRuntime, data: Record<string, unknown>): boolean {
  return rt.collection.type === 'auth' && Object.hasOwn(data, 'verified');
}
