import type { Collection, Field } from '../schema/index.js';
import type { UploadedFile } from '../records/types.js';
import { partField } from './spool.js';

/** PocketBase's default file maxSize: 5 MiB. */
export const DEFAULT_MAX_FILE_SIZE = 5 << 20;

export function fileFields(collection: Collection): Field[] {
  return collection.fields.filter((f) => f.type === 'file');
}

export function maxFileSize(field: Field): number {
  const max = Number(field['maxSize']);
  return Number.isFinite(max) && max > 0 ? max : DEFAULT_MAX_FILE_SIZE;
}

/** The spool's limit per part: the file field's maxSize, or null when the part names no file field. */
export function partLimit(collection: Collection): (part: string) => number | null {
  const byName = new Map(fileFields(collection).map((f) => [f.name, maxFileSize(f)]));
  return (part) => byName.get(partField(part)) ?? null;
}

/** A batch part, `requests.<i>.<key>` or `requests[<i>].<key>`: its sub-request and key. */
const BATCH_PART = /^requests(?:\.(\d+)\.|\[(\d+)\]\.)(.+)$/;

export function batchPart(part: string): { index: number; key: string } | null {
  const m = BATCH_PART.exec(part);
  return m ? { index: Number(m[1] ?? m[2]), key: m[3]! } : null;
}

/**
 * A batch's parts arrive before its `@jsonPayload` says which collection each sub-request writes,
 * so a part is cut at the largest maxSize of any file field; each sub-request then checks its own.
 */
export function batchPartLimit(collections: readonly Collection[]): (part: string) => number | null {
  const sizes = collections.flatMap((c) => fileFields(c).map(maxFileSize));
  const largest = sizes.length > 0 ? Math.max(...sizes) : null;
  return (part) => (batchPart(part) && largest !== null ? largest : null);
}

/** The upload keys of a collection's file fields, for a sub-request's check. */
export function acceptsUpload(collection: Collection, key: string): boolean {
  return fileFields(collection).some((f) => f.name === partField(key));
}

/**
 * Puts the uploads' stored names into the body under their part keys, so that the modifiers
 * resolve them like any value (§1.5): `f` replaces the field (plain names sent under `f` too are
 * kept, uploads after them), `f+` appends, `+f` prepends.
 */
export function withUploadNames(data: Record<string, unknown>, uploads: readonly UploadedFile[]): Record<string, unknown> {
  if (uploads.length === 0) return data;
  const out = { ...data };
  for (const upload of uploads) {
    const prior = out[upload.field];
    const list = prior === undefined || prior === null || prior === '' ? [] : Array.isArray(prior) ? prior : [prior];
    out[upload.field] = [...list, upload.name];
  }
  return out;
}

export { partField };
