import type { Tokens } from '../auth/tokens.js';
import { AppError } from '../errors/index.js';
import { toFileNames } from '../records/input.js';
import { loadOne, viewRecord, type RecordsDeps } from '../records/read.js';
import type { CollectionRuntime } from '../records/runtime.js';
import type { ApiRecord, RequestInfo } from '../records/types.js';
import type { Field } from '../schema/index.js';
import { isSafeName } from './names.js';
import { fileKey } from './plugin.js';

export interface FoundFile {
  rt: CollectionRuntime;
  record: ApiRecord;
  field: Field;
  name: string;
  key: string;
}

/**
 * The file a download names, when the requester may have it (§10): the collection, the record
 * and a file field holding the name must exist; a protected field also needs a file token whose
 * record passes the collection's viewRule (context `protectedFile`; superusers always pass).
 * Anything else is null: a 404, never a hint of what exists.
 */
export async function findFile(deps: RecordsDeps & { tokens: Tokens }, collection: string, recordId: string, name: string, token: string | undefined): Promise<FoundFile | null> {
  const rt = deps.runtime.find(collection);
  if (!rt || !isSafeName(name)) return null;
  const loaded = await loadOne(deps, rt, recordId, null);
  if (!loaded) return null;
  const record = loaded.presentable.record;
  const field = rt.collection.fields.find((f) => f.type === 'file' && toFileNames(record[f.name]).includes(name));
  if (!field) return null;
  if (field['protected'] === true && !(await mayReadProtected(deps, rt, recordId, token))) return null;
  return { rt, record, field, name, key: fileKey(rt.collection.id, String(record['id']), name) };
}

async function mayReadProtected(deps: RecordsDeps & { tokens: Tokens }, rt: CollectionRuntime, recordId: string, token: string | undefined): Promise<boolean> {
  if (!token) return false;
  const verified = await deps.tokens.verifyAny(token, 'file');
  if (!verified) return false;
  const superuser = verified.rt.collection.name === '_superusers';
  const info: RequestInfo = { auth: { collection: verified.rt.collection, record: verified.record }, superuser, method: 'GET', context: 'protectedFile', query: {}, headers: {}, body: {} };
  try {
    await viewRecord(deps, rt.collection.id, recordId, {}, info);
    return true;
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return false;
    throw err;
  }
}
