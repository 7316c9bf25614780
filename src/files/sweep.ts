import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlRunner } from '../db/index.js';
import { toFileNames } from '../records/input.js';
import type { RecordsRuntime } from '../records/runtime.js';
import type { Files } from './index.js';
import { fileFields } from './upload.js';

export interface SweepResult {
  /** Storage keys no record references (thumbs of such files included). */
  orphans: string[];
  /** Temp files of uploads that never finished (a crash mid-request). */
  staleUploads: string[];
  deleted: boolean;
}

/**
 * The orphan sweep (`galley files --sweep`): objects no record's file field names — left by a
 * crash between a commit and its clean-up, or between storing and committing — and temp files of
 * interrupted uploads. Objects younger than `minAgeMs` are left alone: they may belong to a write
 * still in flight. Deletes only with `apply`.
 */
export async function sweepFiles(files: Files, runtime: RecordsRuntime, runner: SqlRunner, options: { apply: boolean; minAgeMs: number }): Promise<SweepResult> {
  const referenced = await referencedKeys(runtime, runner);
  const cutoff = Date.now() - options.minAgeMs;
  const orphans: string[] = [];
  for await (const { key, modified } of files.storage.list()) {
    if (modified.getTime() > cutoff) continue;
    if (!referenced.has(ownerKey(key))) orphans.push(key);
  }
  const staleUploads: string[] = [];
  for (const name of await readdir(files.spoolDir).catch(() => [] as string[])) {
    const s = await stat(join(files.spoolDir, name)).catch(() => null);
    if (s && s.mtime.getTime() <= cutoff) staleUploads.push(join(files.spoolDir, name));
  }
  if (options.apply) {
    for (const key of orphans) await files.storage.delete(key);
    for (const path of staleUploads) await rm(path, { force: true });
  }
  return { orphans: orphans.sort(), staleUploads: staleUploads.sort(), deleted: options.apply };
}

/** The original a key belongs to: itself, or for a thumb `c/r/thumbs_<name>/<size>_<name>`, `c/r/<name>`. */
function ownerKey(key: string): string {
  const parts = key.split('/');
  if (parts.length === 4 && parts[2]!.startsWith('thumbs_')) return `${parts[0]}/${parts[1]}/${parts[2]!.slice('thumbs_'.length)}`;
  return key;
}

/** Every `collectionId/recordId/name` a file field holds, read in pages of ids. */
async function referencedKeys(runtime: RecordsRuntime, runner: SqlRunner): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const rt of runtime.byId.values()) {
    if (rt.collection.type === 'view') continue;
    const fields = fileFields(rt.collection).map((f) => f.name);
    if (fields.length === 0) continue;
    const columns = ['id', ...fields].map((c) => `"${c}"`).join(', ');
    let after = '';
    for (;;) {
      const rows = await runner.all(`SELECT ${columns} FROM ${rt.table} WHERE "id" > ? ORDER BY "id" LIMIT 1000`, [after]);
      for (const row of rows) {
        for (const f of fields) for (const name of toFileNames(decodeList(row[f]))) keys.add(`${rt.collection.id}/${String(row['id'])}/${name}`);
      }
      if (rows.length < 1000) break;
      after = String(rows.at(-1)!['id']);
    }
  }
  return keys;
}

/** A multiple file column comes back as JSON text (SQLite) or an array (PostgreSQL jsonb). */
function decodeList(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith('[')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
