import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rm, stat, unlink, writeFile, rename } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { LocalObject } from './opened.js';
import type { ByteRange, FileStorage, OpenedObject, StoredObject } from './types.js';

/**
 * Files under `<data>/storage`, one file per key (PocketBase's layout, so a copied
 * `pb_data/storage` serves as is; its `.attrs` sidecar files are ignored).
 */
export class LocalStorage implements FileStorage {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  private path(key: string): string {
    const parts = key.split('/');
    // Keys are built from vetted ids and names; this is the last line against a traversal.
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) throw new Error(`invalid storage key: ${key}`);
    return join(this.root, ...parts);
  }

  async put(key: string, source: string | Buffer): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // Written in place, not aside and renamed: no reader can ask for it before the record that
    // names it commits. A retried transaction writes it again ('w').
    if (Buffer.isBuffer(source)) return writeFile(target, source);
    // A hard link costs nothing and leaves the spooled upload for a retried transaction; across
    // file systems (or where links are refused) the bytes are copied.
    try {
      await link(source, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') await unlink(target);
      else if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
      await copyFile(source, target);
    }
  }

  async putBuffer(key: string, data: Buffer): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    // Written aside and renamed: a concurrent reader sees the whole thumb or none.
    const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temp, data);
    await rename(temp, target);
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size, modified: s.mtime } : null;
    } catch {
      return null;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch {
      return null; // missing, or an invalid key: as stat()
    }
    try {
      const s = await handle.stat();
      if (s.isFile()) return new LocalObject(handle, s.size, s.mtime);
    } catch (err) {
      await handle.close();
      throw err;
    }
    await handle.close();
    return null;
  }

  async read(key: string, range?: ByteRange): Promise<Readable | null> {
    if (!(await this.stat(key))) return null;
    return createReadStream(this.path(key), range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
    await rm(`${this.path(key)}.attrs`, { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    await rm(this.path(prefix.replace(/\/$/, '')), { recursive: true, force: true });
  }

  async *list(): AsyncIterable<{ key: string; modified: Date }> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isFile() || e.name.endsWith('.attrs') || e.name.endsWith('.tmp')) continue;
      const full = join(e.parentPath, e.name);
      const key = full.slice(this.root.length + 1).split(sep).join('/');
      const s = await stat(full).catch(() => null);
      if (s) yield { key, modified: s.mtime };
    }
  }
}
