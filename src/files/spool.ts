import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AppError } from '../errors/index.js';
import type { UploadedFile } from '../records/types.js';
import { detectType, SNIFF_BYTES } from './mime.js';
import { storedFileName } from './names.js';

/**
 * A multipart body declaring at most this many bytes keeps its file parts in memory: no temp
 * file to create, write, close and remove, the stored file written in one go (issue 13: a 10 KB
 * upload made 9 file-system calls and two streams). Larger or chunked bodies stream to disk, so
 * memory stays flat whatever the upload; this bounds what one request holds like a JSON body.
 */
export const HOLD_BODY_BYTES = 64 * 1024;

/** The bytes of parts held in memory, by their (never created) spool path; removed by discard(). */
const held = new Map<string, Buffer>();

/** The bytes of an upload held in memory, or undefined when it is a temp file at `path`. */
export function heldUpload(path: string): Buffer | undefined {
  return held.get(path);
}

/** The longest original file name accepted (bytes of UTF-8); a browser never sends more. */
export const MAX_ORIGINAL_NAME = 255;

/** The file field a multipart part names: `f`, `f+` (append) or `+f` (prepend). */
export function partField(part: string): string {
  if (part.startsWith('+')) return part.slice(1);
  if (part.endsWith('+')) return part.slice(0, -1);
  return part;
}

/**
 * Where one request's uploads wait while the body is parsed and the write validated: each file
 * part is streamed to its own temp file (never held in memory), cut at its field's `maxSize`, its
 * head kept for type detection. `discard()` removes them all once the request is done (stored
 * files are links or copies of them, so nothing is lost).
 */
export class UploadSpool {
  private readonly paths = new Set<string>();
  private readonly active = new Set<WriteStream>();
  private discarded = false;
  private inMemory = false;

  constructor(
    private readonly dir: string,
    /** The maxSize in bytes of the file field a part names (`f`, `f+`, `+f`, `requests.0.f`), or null when it names none. */
    private readonly maxSizeOf: (part: string) => number | null,
  ) {}

  /** Called with the body's declared length (NaN when chunked) before any part is accepted. */
  expectBody(length: number): void {
    this.inMemory = length <= HOLD_BODY_BYTES;
  }

  async accept(part: string, filename: string, stream: Readable): Promise<UploadedFile> {
    const maxSize = this.maxSizeOf(part);
    if (maxSize === null) throw refusal(part, 'validation_not_a_file_field', 'Only file fields accept uploads.');
    checkOriginalName(part, filename);
    if (this.inMemory) return this.hold(part, filename, stream, maxSize);
    await ensureDir(this.dir);
    if (this.discarded) throw new AppError('invalid_body', 'The upload was cancelled.');
    const path = join(this.dir, randomUUID());
    this.paths.add(path);
    const out = createWriteStream(path, { flags: 'wx' });
    this.active.add(out);
    try {
      const { size, head, tooLarge } = await copyCut(stream, out, maxSize);
      const detected = await detectType(head);
      return { field: part, filename, mimeType: detected.mime, size, path, name: storedFileName(filename, detected.ext), tooLarge };
    } finally {
      this.active.delete(out);
    }
  }

  private async hold(part: string, filename: string, stream: Readable, maxSize: number): Promise<UploadedFile> {
    const { size, bytes } = await collectCut(stream, maxSize);
    if (this.discarded) throw new AppError('invalid_body', 'The upload was cancelled.');
    const path = join(this.dir, randomUUID());
    this.paths.add(path);
    held.set(path, bytes);
    const detected = await detectType(bytes.subarray(0, SNIFF_BYTES));
    return { field: part, filename, mimeType: detected.mime, size, path, name: storedFileName(filename, detected.ext), tooLarge: size > maxSize };
  }

  /** Removes every temp file (and held part) of the request, stopping writes still in progress. */
  async discard(): Promise<void> {
    this.discarded = true;
    await Promise.all([...this.active].map((out) => (out.destroy(), finished(out).catch(() => {}))));
    // unlink, not rm: rm lstat's twice before it unlinks (3 calls instead of 1).
    await Promise.all([...this.paths].map((p) => (held.delete(p) ? undefined : unlink(p).catch(() => {}))));
    this.paths.clear();
  }
}

/** Spool folders known to exist (created once per process, not per request). */
const madeDirs = new Map<string, Promise<unknown>>();

function ensureDir(dir: string): Promise<unknown> {
  let made = madeDirs.get(dir);
  if (!made) {
    made = mkdir(dir, { recursive: true });
    madeDirs.set(dir, made);
    made.catch(() => madeDirs.delete(dir));
  }
  return made;
}

function refusal(part: string, code: string, message: string): AppError {
  return new AppError('invalid_body', message, { [part]: { code, message } });
}

/** Names a browser never sends (paths, `..`, NUL and other control characters, overlong) are refused, not cleaned. */
function checkOriginalName(part: string, filename: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = Buffer.byteLength(filename) > MAX_ORIGINAL_NAME || /[/\\\u0000-\u001f\u007f]/.test(filename) || filename === '.' || filename === '..';
  if (bad) throw refusal(part, 'validation_invalid_file_name', `Invalid file name: at most ${MAX_ORIGINAL_NAME} bytes, no path separators or control characters.`);
}

/** Collects a small part in memory, keeping at most `maxSize` bytes (past it only counted). */
function collectCut(input: Readable, maxSize: number): Promise<{ size: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    input.on('data', (chunk: Buffer) => {
      if (size < maxSize) chunks.push(chunk.subarray(0, maxSize - size));
      size += chunk.length;
    });
    input.once('error', (err) => reject(new AppError('invalid_body', 'Failed to read the uploaded file.', {}, { cause: err })));
    input.once('end', () => resolve({ size, bytes: Buffer.concat(chunks) }));
  });
}

/**
 * Copies `input` to `out` with backpressure, keeping its first bytes; past `maxSize` the file is
 * cut (what was written stays until discarded) and the rest only counted, so the body can be
 * read to its end and every field's problem reported.
 */
function copyCut(input: Readable, out: WriteStream, maxSize: number): Promise<{ size: number; head: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let tooLarge = false;
    const head: Buffer[] = [];
    let headSize = 0;
    const fail = (err: unknown) => {
      input.resume();
      out.destroy();
      reject(err instanceof AppError ? err : new AppError('invalid_body', 'Failed to store the uploaded file.', {}, { cause: err }));
    };
    input.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (headSize < SNIFF_BYTES) {
        head.push(chunk.subarray(0, SNIFF_BYTES - headSize));
        headSize += Math.min(chunk.length, SNIFF_BYTES - headSize);
      }
      if (tooLarge) return;
      if (size > maxSize) {
        tooLarge = true;
        out.end();
        return;
      }
      if (!out.write(chunk)) {
        input.pause();
        out.once('drain', () => input.resume());
      }
    });
    input.once('error', fail);
    out.once('error', fail);
    input.once('end', () => {
      if (!tooLarge) out.end();
      finished(out).then(() => resolve({ size, head: Buffer.concat(head), tooLarge }), fail);
    });
  });
}
