import { AppError } from '../errors/index.js';
import { hashPassword, verifyPassword } from '../passwords/index.js';
import { fmt, sql } from '../query/index.js';
import { formatDate } from '../schema/index.js';
import { ruleSql } from './access.js';
import { canManageRecord } from './manage.js';
import type { WriteCause } from './plugins.js';
import {
  checkIfMatch,
  fieldErrors,
  guardConstraints,
  locked,
  newWrite,
  rotateTokenKey,
  runStages,
  setAutodates,
  withSession,
  writable,
  type WriteOptions,
} from './pipeline.js';
import { findRuntime, loadForWrite, loadOne, respond, type LoadedRecord, type RecordQuery, type RecordResult, type RecordsDeps } from './read.js';
import type { CollectionRuntime } from './runtime.js';
import type { WriteSession } from './session.js';
import type { ApiRecord, RequestInfo, UploadedFile } from './types.js';
import { updateRow } from './write.js';

type SessionDeps = RecordsDeps & { session: WriteSession };

/** Update: lock and read → parse → updateRule → If-Match → validate → the shared stages → respond. */
export async function updateRecord(deps: RecordsDeps, collection: string, id: string, data: Record<string, unknown>, query: RecordQuery, info: RequestInfo, options: WriteOptions = {}): Promise<RecordResult> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  if (!info.superuser && locked(rt.rules.updateRule)) throw new AppError('forbidden');
  return withSession(deps, async (tx) => {
    const existing = await loadForWrite(tx, rt, id, null);
    if (!existing) throw new AppError('not_found');
    const stored = existing.presentable.record;
    const canManage = !info.superuser && rt.collection.type === 'auth' && (await canManageRecord(tx, rt, id, info));
    const input = rt.resolveInput(data, { existing: stored, superuser: info.superuser, canManage });
    const rule = ruleSql(deps.runtime, rt, 'updateRule', { ...info, body: input.body });
    if (rule) {
      const check = fmt`SELECT 1 AS "ok" FROM ${sql(rt.table)} r WHERE r."id" = ? AND ${rule}`;
      if ((await tx.runner.all(check.text, [id, ...check.values])).length === 0) throw new AppError('not_found');
    }
    checkIfMatch(options.ifMatch, existing.version);
    if (Object.keys(input.errors).length > 0) throw new AppError('update_failed', undefined, input.errors);
    if (input.oldPassword !== undefined && !(await verifyPassword(input.oldPassword, String(stored['password'] ?? ''))).ok) {
      throw new AppError('update_failed', undefined, { oldPassword: { code: 'validation_invalid_old_password', message: 'Missing or invalid old password.' } });
    }
    setAutodates(rt, input.values, input.changed, formatDate(new Date()), false);
    const errors = await fieldErrors(tx, rt, input.values, { isNew: false, changed: input.changed, newPassword: input.newPassword, otherPasswords: input.otherPasswords, existing: stored, uploads: options.uploads });
    if (Object.keys(errors).length > 0) throw new AppError('update_failed', undefined, errors);
    if (input.newPassword !== undefined) {
      input.values['password'] = await hashPassword(input.newPassword);
      input.changed.add('password');
    }
    for (const [name, plain] of Object.entries(input.otherPasswords ?? {})) input.values[name] = await hashPassword(plain);
    rotateTokenKey(rt, input.values, input.changed, stored);
    await saveUpdate(tx, rt, existing, input.values, input.changed, info, { uploads: options.uploads ?? [], cause: 'request' });
    const saved = await loadOne(tx, rt, id, null);
    return respond(tx, saved!.presentable, saved!.version, query, info);
  });
}

/**
 * The shared stages of an update whose values are final: a request's (validated above), an auth
 * flow's (writeAuthFields) or a cascade's (a relation id removed). A before-hook may change more
 * fields; what it changes is validated and written too.
 */
export async function saveUpdate(
  deps: SessionDeps,
  rt: CollectionRuntime,
  existing: LoadedRecord,
  values: ApiRecord,
  changed: Set<string>,
  info: RequestInfo,
  extra: { uploads: readonly UploadedFile[]; cause: WriteCause },
): Promise<void> {
  const stored = existing.presentable.record;
  const id = String(stored['id']);
  const w = newWrite('update', rt, values, stored, changed, info, deps.session, extra);
  const hooked = rt.stages.update.before.length > 0;
  await runStages(w, async () => {
    if (hooked) await revalidateHooked(deps, rt, w, stored);
    await guardConstraints(rt, deps.runner, 'update_failed', () => updateRow(deps.runner, rt, id, w.record, w.changed));
  });
}

/** Fields a before-hook changed are written, and validated like a client's values. */
async function revalidateHooked(deps: RecordsDeps, rt: CollectionRuntime, w: { record: ApiRecord; changed: Set<string>; uploads: readonly UploadedFile[] }, stored: ApiRecord): Promise<void> {
  const byHook = new Set<string>();
  for (const field of rt.collection.fields) {
    if (!w.changed.has(field.name) && JSON.stringify(w.record[field.name]) !== JSON.stringify(stored[field.name])) byHook.add(field.name);
  }
  if (byHook.size === 0) return;
  for (const name of byHook) w.changed.add(name);
  const errors = await fieldErrors(deps, rt, w.record, { isNew: false, changed: byHook, existing: stored, uploads: w.uploads });
  if (Object.keys(errors).length > 0) throw new AppError('update_failed', undefined, errors);
}

/**
 * Writes fields an auth flow decided (verified, a password hash, email, tokenKey): no rule or
 * form validation applies, but it is a write like any other — `updated`-style autodates move,
 * the ETag version changes, hooks and realtime see it. A unique-index clash (an email taken
 * meanwhile) is a field error, not a 500.
 */
export async function writeAuthFields(deps: RecordsDeps, rt: CollectionRuntime, id: string, changes: ApiRecord, info: RequestInfo = SYSTEM): Promise<void> {
  await withSession(deps, async (tx) => {
    const existing = await loadForWrite(tx, rt, id, null);
    if (!existing) throw new AppError('not_found');
    const values = { ...existing.presentable.record, ...changes };
    const changed = new Set(Object.keys(changes));
    setAutodates(rt, values, changed, formatDate(new Date()), false);
    await saveUpdate(tx, rt, existing, values, changed, info, { uploads: [], cause: 'request' });
  });
}

/** The requester of writes Galley makes on its own behalf (auth flows): rules do not apply. */
const SYSTEM: RequestInfo = { auth: null, superuser: true, method: 'POST', context: 'default', query: {}, headers: {}, body: {} };
