import { AppError } from '../errors/index.js';
import { ident } from '../query/index.js';
import { formatDate } from '../schema/index.js';
import { ruleSql } from './access.js';
import type { WriteCause } from './plugins.js';
import { checkIfMatch, newWrite, runStages, setAutodates, withSession, writable, type WriteOptions } from './pipeline.js';
import { findRuntime, loadForWrite, type LoadedRecord, type RecordsDeps } from './read.js';
import type { CollectionRuntime, Reference } from './runtime.js';
import type { WriteSession } from './session.js';
import type { ApiRecord, RequestInfo } from './types.js';
import { saveUpdate } from './update.js';
import { isRequiredRelationError } from './write.js';

type SessionDeps = RecordsDeps & { session: WriteSession };

/** Delete: lock and read (deleteRule) → If-Match → the shared stages, with the cascade before the row goes. */
export async function deleteRecord(deps: RecordsDeps, collection: string, id: string, info: RequestInfo, options: WriteOptions = {}): Promise<void> {
  const rt = findRuntime(deps.runtime, collection);
  writable(rt);
  const rule = ruleSql(deps.runtime, rt, 'deleteRule', info);
  await withSession(deps, async (tx) => {
    const existing = await loadForWrite(tx, rt, id, rule);
    if (!existing) throw new AppError('not_found');
    checkIfMatch(options.ifMatch, existing.version);
    await removeRecord(tx, rt, existing, info, 'request');
  });
}

/**
 * Deletes a loaded record through the shared stages. The references to it are resolved first,
 * as PocketBase does in the same transaction: each referencing record loses the id, and is
 * itself deleted (through this same path, with its own events, hooks and files) when its
 * relation has `cascadeDelete` and no ids are left; a required relation left empty refuses
 * the whole delete. The database's own foreign keys and triggers then find nothing to do.
 */
async function removeRecord(deps: SessionDeps, rt: CollectionRuntime, existing: LoadedRecord, info: RequestInfo, cause: WriteCause): Promise<void> {
  const record = existing.presentable.record;
  const id = String(record['id']);
  if (rt.collection.name === '_superusers') await refuseLastSuperuser(deps, rt);
  deps.session.deleting.add(recordKey(rt, id));
  const w = newWrite('delete', rt, record, record, new Set(), info, deps.session, { cause });
  await runStages(w, async () => {
    for (const ref of rt.references) await cascade(deps, ref, id, info);
    try {
      await deps.runner.run(`DELETE FROM ${rt.table} WHERE "id" = ?`, [id]);
    } catch (err) {
      if (isRequiredRelationError(err, deps.runner.dialect)) throw new AppError('delete_failed', undefined, {}, { cause: err });
      throw err;
    }
  });
}

/** PocketBase refuses to delete the only superuser (nobody could sign in to the admin panel again). */
async function refuseLastSuperuser(deps: SessionDeps, rt: CollectionRuntime): Promise<void> {
  // Locking every superuser row serializes concurrent deletes, so two of them cannot both see "2 left".
  const lock = deps.runner.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const rows = await deps.runner.all(`SELECT "id" FROM ${rt.table} LIMIT 2${lock}`, []);
  if (rows.length <= 1) throw new AppError('bad_request', "You can't delete the only existing superuser.");
}

const CASCADE_CHUNK = 500;

/** Resolves every record of `ref.source` whose relation `ref.field` holds `targetId`. */
async function cascade(deps: SessionDeps, ref: Reference, targetId: string, info: RequestInfo): Promise<void> {
  const { source, field } = ref;
  const match = ref.junction
    ? `r."id" IN (SELECT "owner_id" FROM ${ident(ref.junction)} WHERE "target_id" = ?)`
    : `r.${ident(field.name)} = ?`;
  const skipped = new Set<string>();
  for (;;) {
    // Records already on their way out of this session (a reference cycle) keep no claim: their
    // reference is dropped directly. What a round resolves no longer matches, so the loop ends.
    const owners = await lockOwners(deps, ref, match, targetId, [...skipped]);
    if (owners.length === 0) return;
    for (const owner of owners) {
      const ownerId = String(owner.presentable.record['id']);
      if (deps.session.deleting.has(recordKey(source, ownerId))) {
        await dropReference(deps, ref, ownerId, targetId);
        skipped.add(ownerId);
        continue;
      }
      await resolveReference(deps, ref, owner, targetId, info);
    }
  }
}

/**
 * The next chunk of referencing records, locked. On PostgreSQL the ids are locked first and the
 * records read after (see loadForWrite: a locking read would see their relation lists as they
 * were before it waited).
 */
async function lockOwners(deps: SessionDeps, ref: Reference, match: string, targetId: string, exclude: string[]): Promise<LoadedRecord[]> {
  const { source } = ref;
  const notIn = exclude.length > 0 ? ` AND r."id" NOT IN (${exclude.map(() => '?').join(', ')})` : '';
  const lock = deps.runner.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const idRows = await deps.runner.all(`SELECT r."id" AS "id" FROM ${source.table} r WHERE ${match}${notIn} ORDER BY r."id" LIMIT ${CASCADE_CHUNK}${lock}`, [targetId, ...exclude]);
  if (idRows.length === 0) return [];
  const ids = idRows.map((row) => String(row['id']));
  const rows = await deps.runner.all(`SELECT ${source.selectList} FROM ${source.table} r WHERE r."id" IN (${ids.map(() => '?').join(', ')}) ORDER BY r."id"`, ids);
  return rows.map((row) => ({ presentable: { rt: source, record: source.decode(row) }, version: null }));
}

async function resolveReference(deps: SessionDeps, ref: Reference, owner: LoadedRecord, targetId: string, info: RequestInfo): Promise<void> {
  const { source, field } = ref;
  const record = owner.presentable.record;
  const value = record[field.name];
  const left = Array.isArray(value) ? value.map(String).filter((id) => id !== targetId) : [];
  if (field['cascadeDelete'] && left.length === 0) return removeRecord(deps, source, owner, info, 'cascade');
  if (field.required && left.length === 0) throw new AppError('delete_failed');
  const values: ApiRecord = { ...record, [field.name]: ref.junction ? left : '' };
  const changed = new Set([field.name]);
  setAutodates(source, values, changed, formatDate(new Date()), false);
  await saveUpdate(deps, source, owner, values, changed, info, { uploads: [], cause: 'cascade' });
}

/** A record this session deletes anyway: its reference goes without an update of its own. */
async function dropReference(deps: SessionDeps, ref: Reference, ownerId: string, targetId: string): Promise<void> {
  if (ref.junction) await deps.runner.run(`DELETE FROM ${ident(ref.junction)} WHERE "owner_id" = ? AND "target_id" = ?`, [ownerId, targetId]);
  else await deps.runner.run(`UPDATE ${ref.source.table} SET ${ident(ref.field.name)} = NULL WHERE "id" = ?`, [ownerId]);
}

function recordKey(rt: CollectionRuntime, id: string): string {
  return `${rt.collection.id}/${id}`;
}
