import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ByteRange, FileStorage, OpenedObject, StoredObject } from './types.js';

/**
 * A small local file is read whole by its first read (one read instead of a sniffing read, then
 * a read stream's open, read and close): 64 KiB covers the 10 KB files of issue 13's benchmark
 * with room, and bounds the memory a download holds to what a read stream's buffer would.
 */
export const READ_WHOLE_BYTES = 64 * 1024;

/** A local file opened once for a download (LocalStorage.open). */
export class LocalObject implements OpenedObject {
  /** The whole file, once a read has covered it (the handle is closed then). */
  private bytes: Buffer | null = null;
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
    readonly modified: Date,
  ) {}

  async head(n: number): Promise<Buffer> {
    if (this.bytes) return this.bytes.subarray(0, n);
    if (this.size <= READ_WHOLE_BYTES) return (await this.whole()).subarray(0, n);
    const buffer = Buffer.allocUnsafe(Math.min(n, this.size));
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  }

  async body(range?: ByteRange): Promise<Readable | Buffer> {
    if (this.bytes || this.size <= READ_WHOLE_BYTES) {
      const bytes = await this.whole();
      return range ? bytes.subarray(range.start, range.end + 1) : bytes;
    }
    // The stream owns the handle from here and closes it at its end (or when destroyed).
    this.closed = true;
    return this.handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private async whole(): Promise<Buffer> {
    if (this.bytes) return this.bytes;
    const buffer = Buffer.allocUnsafe(this.size);
    let filled = 0;
    // One read for a file of this size; the loop only guards against a short read.
    while (filled < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.bytes = buffer.subarray(0, filled);
    // Not awaited: the answer need not wait for the close (one thread-pool round trip less before
    // the reply); a read-only descriptor's close has nothing to report.
    this.close().catch(() => {});
    return this.bytes;
  }
}

/** An object of a storage without open files (S3): a stat, then a ranged read per step. */
export async function openByStat(storage: FileStorage, key: string): Promise<OpenedObject | null> {
  const stat: StoredObject | null = await storage.stat(key);
  if (!stat) return null;
  return {
    ...stat,
    async head(n) {
      if (stat.size === 0 || n === 0) return Buffer.alloc(0);
      const stream = await storage.read(key, { start: 0, end: Math.min(stat.size, n) - 1 });
      if (!stream) return Buffer.alloc(0);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    async body(range) {
      const stream = await storage.read(key, range);
      if (!stream) throw new Error(`storage object vanished while read: ${key}`);
      return stream;
    },
    close: async () => {},
  };
}
