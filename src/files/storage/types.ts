import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  modified: Date;
}

/** A byte range, both ends included (HTTP's `bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where files live: the local disk or an S3-compatible bucket. Keys are PocketBase's layout,
 * `<collectionId>/<recordId>/<filename>` and `<collectionId>/<recordId>/thumbs_<filename>/<size>_<filename>`.
 */
export interface FileStorage {
  readonly kind: 'local' | 's3';
  /** Stores the local file `source` under `key` (the source stays: a retried transaction stores it again). */
  put(key: string, source: string, contentType: string): Promise<void>;
  /** Stores a small in-memory object (a generated thumb). */
  putBuffer(key: string, data: Buffer, contentType: string): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  /** The object's bytes (a range of them); null when it does not exist. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Deletes one object; a missing one is fine. */
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (which ends with `/`). */
  deletePrefix(prefix: string): Promise<void>;
  /** Every object key (for the orphan sweep), with its modification time. */
  list(): AsyncIterable<{ key: string; modified: Date }>;
}
