import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AppError } from '../errors/index.js';
import type { UploadedFile } from '../records/types.js';
import { detectType, SNIFF_BYTES } from './mime.js';
import { storedFileName } from './names.js';

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

  constructor(
    private readonly dir: string,
    /** The maxSize in bytes of the file field a part names (`f`, `f+`, `+f`, `requests.0.f`), or null when it names none. */
    private readonly maxSizeOf: (part: string) => number | null,
  ) {}

  async accept(part: string, filename: string, stream: Readable): Promise<UploadedFile> {
    const maxSize = this.maxSizeOf(part);
    if (maxSize === null) throw refusal(part, 'validation_not_a_file_field', 'Only file fields accept uploads.');
    checkOriginalName(part, filename);
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

  /** Removes every temp file of the request, stopping writes still in progress. */
  async discard(): Promise<void> {
    this.discarded = true;
    await Promise.all([...this.active].map((out) => (out.destroy(), finished(out).catch(() => {}))));
    await Promise.all([...this.paths].map((p) => rm(p, { force: true })));
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
