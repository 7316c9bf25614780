import type { FileMetrics } from '../metrics/index.js';
import type { RecordWrite, StageHandlers, WriteAction, WritePlugin } from '../records/plugins.js';
import { toFileNames } from '../records/input.js';
import type { Collection } from '../schema/index.js';
import { isSafeName } from './names.js';
import { heldUpload } from './spool.js';
import { fileFields, partField } from './upload.js';
import type { FileStorage } from './storage/types.js';

export function fileKey(collectionId: string, recordId: string, name: string): string {
  return `${collectionId}/${recordId}/${name}`;
}

export function thumbsPrefix(collectionId: string, recordId: string, name: string): string {
  return `${collectionId}/${recordId}/thumbs_${name}/`;
}

/**
 * Files in the write pipeline (galley.md §10): a write's uploads are stored inside its
 * transaction (`prepare`), removed if it rolls back; files it drops (replaced, removed, or of a
 * deleted record, cascades included) are removed only after the commit, thumbs with them.
 */
export class FilesPlugin implements WritePlugin {
  readonly name = 'files';
  metrics: FileMetrics | null = null;

  constructor(
    private readonly storage: () => FileStorage,
    private readonly report: (err: unknown, what: string) => void,
  ) {}

  handlersFor(collection: Collection, action: WriteAction): StageHandlers | null {
    const fields = fileFields(collection).map((f) => f.name);
    if (fields.length === 0) return null;
    if (action === 'delete') return { committed: (w) => this.removeRecord(w) };
    const stored = new WeakMap<RecordWrite, string[]>();
    return {
      prepare: async (w) => {
        if (w.uploads.length === 0) return;
        const keys: string[] = [];
        stored.set(w, keys);
        for (const upload of this.kept(w)) {
          const key = fileKey(w.rt.collection.id, String(w.record['id']), upload.name);
          keys.push(key);
          await this.storage().put(key, heldUpload(upload.path) ?? upload.path, upload.mimeType);
        }
      },
      rolledBack: async (w) => {
        for (const key of stored.get(w) ?? []) await this.storage().delete(key);
      },
      committed: async (w) => {
        for (const upload of this.kept(w)) this.metrics?.uploaded(upload.size);
        if (action === 'update') await this.removeDropped(w, fields);
      },
    };
  }

  /** The uploads the final record holds (a before-hook may have dropped some: they are not stored). */
  private kept(w: RecordWrite) {
    return w.uploads.filter((u) => u.path !== '' && toFileNames(w.record[partField(u.field)]).includes(u.name));
  }

  private async removeDropped(w: RecordWrite, fields: string[]): Promise<void> {
    const cid = w.rt.collection.id;
    const id = String(w.record['id']);
    for (const field of fields) {
      const now = new Set(toFileNames(w.record[field]));
      for (const name of toFileNames(w.original?.[field])) {
        if (now.has(name) || !isSafeName(name)) continue;
        await this.removeFile(cid, id, name);
      }
    }
  }

  private async removeFile(cid: string, id: string, name: string): Promise<void> {
    try {
      await this.storage().delete(fileKey(cid, id, name));
      await this.storage().deletePrefix(thumbsPrefix(cid, id, name));
    } catch (err) {
      this.report(err, `removing file ${cid}/${id}/${name}`);
    }
  }

  private async removeRecord(w: RecordWrite): Promise<void> {
    const id = String((w.original ?? w.record)['id'] ?? '');
    if (!id) return;
    await this.storage().deletePrefix(`${w.rt.collection.id}/${id}/`);
  }
}
