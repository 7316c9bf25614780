import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  modified: Date;
}

/**
 * An object opened for one download: its size and date, its first bytes (type sniffing), then its
 * body. Locally it is one open file (one open, fstat and read for a small file instead of a stat
 * and an open per step); `close()` is safe to call whatever was read, and more than once.
 */
export interface OpenedObject extends StoredObject {
  /** The first `n` bytes (fewer when the object is shorter). */
  head(n: number): Promise<Buffer>;
  /** The bytes (a range of them): a Buffer when they are already in memory, else a stream that closes the object at its end. */
  body(range?: ByteRange): Promise<Readable | Buffer>;
  close(): Promise<void>;
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
  /**
   * Stores the local file `source` (or these bytes: a small upload held in memory) under `key`;
   * the source stays, a retried transaction stores it again.
   */
  put(key: string, source: string | Buffer, contentType: string): Promise<void>;
  /** Stores a small in-memory object (a generated thumb). */
  putBuffer(key: string, data: Buffer, contentType: string): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  /** The object opened for reading; null when it does not exist. */
  open(key: string): Promise<OpenedObject | null>;
  /** The object's bytes (a range of them); null when it does not exist. */
  read(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Deletes one object; a missing one is fine. */
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (which ends with `/`). */
  deletePrefix(prefix: string): Promise<void>;
  /** Every object key (for the orphan sweep), with its modification time. */
  list(): AsyncIterable<{ key: string; modified: Date }>;
}
