import { join } from 'node:path';
import type { Collection } from '../schema/index.js';
import { FilesPlugin } from './plugin.js';
import { UploadSpool } from './spool.js';
import { LocalStorage } from './storage/local.js';
import { S3Storage, type S3Options } from './storage/s3.js';
import type { FileStorage } from './storage/types.js';
import { batchPartLimit, partLimit } from './upload.js';

export interface FilesOptions {
  /** `<data>`: local files under `<data>/storage`, uploads in progress under `<data>/uploads_tmp`. */
  dataDir: string;
  /** Another storage (tests); default: S3 when `s3` is given, else the local folder. */
  storage?: FileStorage;
  s3?: S3Options | null;
  report: (err: unknown, what: string) => void;
  /** GALLEY_MAX_BODY_BYTES (default 32 MiB). */
  maxBodyBytes?: number;
}

/** The files subsystem: its storage, the write-pipeline plugin and per-request upload spools. */
export interface Files {
  storage: FileStorage;
  plugin: FilesPlugin;
  /** Where uploads wait while a request is read (on the data disk: stored by a hard link when local). */
  spoolDir: string;
  /** The base body limit of record writes (their file fields' sizes are added). */
  maxBodyBytes: number;
  /** A spool for one create/update of `collection` (each part cut at its field's maxSize). */
  spool(collection: Collection): UploadSpool;
  /** A spool for one batch (`requests.<i>.<field>` parts, cut at the largest file maxSize). */
  batchSpool(collections: readonly Collection[]): UploadSpool;
}

export function createFiles(options: FilesOptions): Files {
  const storage = options.storage ?? (options.s3 ? new S3Storage(options.s3) : new LocalStorage(join(options.dataDir, 'storage')));
  const spoolDir = join(options.dataDir, 'uploads_tmp');
  const files: Files = {
    storage,
    plugin: new FilesPlugin(() => files.storage, options.report),
    spoolDir,
    maxBodyBytes: options.maxBodyBytes ?? 32 << 20,
    spool: (collection) => new UploadSpool(spoolDir, partLimit(collection)),
    batchSpool: (collections) => new UploadSpool(spoolDir, batchPartLimit(collections)),
  };
  return files;
}

export { findFile, type FoundFile } from './access.js';
export { fileKey, thumbsPrefix } from './plugin.js';
export type { FileStorage } from './storage/types.js';
export { S3Storage, type S3Options } from './storage/s3.js';
export { LocalStorage } from './storage/local.js';
export { acceptsUpload, batchPart, withUploadNames } from './upload.js';
