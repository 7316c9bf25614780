import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../errors/index.js';
import type { UploadSpool } from '../files/spool.js';
import type { UploadedFile } from '../records/types.js';

/** More parts than this in one body is not a form but an attack on the parser: 400. */
export const MAX_PARTS = 1000;

const INVALID_FORMAT = 'Failed to load the submitted data due to invalid formatting.';

export interface MultipartResult {
  /** Plain values in arrival order, by part name. */
  values: Map<string, string[]>;
  files: UploadedFile[];
}

/**
 * Reads a multipart body as it arrives (busboy), never whole: plain parts are collected, file
 * parts go to the spool (temp files) or, without one, are only counted. The byte limit is checked
 * on every chunk; past it, or on any malformed part, the spool is discarded and the rest of the
 * body drained so the 413/400 reaches the client on a healthy connection.
 */
export function readMultipart(req: Request, limit: number, spool: UploadSpool | undefined): Promise<MultipartResult> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        preservePath: true, // names with paths are refused (spool.ts), not silently cut to their last segment
        // busboy's defaults (100-byte names, 1 MiB values) would silently truncate big @jsonPayload parts.
        limits: { fieldNameSize: 64 * 1024, fieldSize: limit, parts: MAX_PARTS },
      });
    } catch (err) {
      req.resume();
      reject(new AppError('invalid_body', INVALID_FORMAT, {}, { cause: err })); // e.g. no boundary
      return;
    }
    // An absent length (chunked) is NaN: such a body is never held in memory.
    spool?.expectBody(Number(req.headers['content-length'] ?? NaN));
    const values = new Map<string, string[]>();
    const add = (key: string, value: string) => (values.get(key) ?? values.set(key, []).get(key)!).push(value);
    const pending: Promise<UploadedFile | null>[] = [];
    let settled = false;
    let received = 0;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      req.resume(); // drain: the error answer needs the connection
      parser.removeAllListeners('close');
      parser.on('error', () => {});
      const error = err instanceof AppError ? err : new AppError('invalid_body', INVALID_FORMAT, {}, { cause: err });
      void (spool?.discard() ?? Promise.resolve()).finally(() => reject(error));
    };
    const nameless = () => fail(new AppError('invalid_body', 'Every form part needs a name.'));
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) fail(new AppError('request_too_large'));
    });
    req.on('close', () => {
      if (!req.readableEnded) fail(new AppError('invalid_body', INVALID_FORMAT));
    });
    parser.on('field', (name, value, info) => {
      if (!name) return nameless();
      if (info.nameTruncated || info.valueTruncated) return fail(new AppError('invalid_body', INVALID_FORMAT));
      add(name, value);
    });
    parser.on('file', (name, stream, info) => {
      if (!name) {
        stream.resume();
        return nameless();
      }
      // Go only treats parts with a filename as files; busboy also does for unnamed octet-stream parts.
      const filename = info.filename;
      if (filename === undefined) return collectText(stream, (text) => add(name, text));
      if (!spool) {
        let size = 0;
        stream.on('data', (c: Buffer) => (size += c.length));
        pending.push(new Promise((done) => stream.on('end', () => done({ field: name, filename, mimeType: info.mimeType, size, path: '', name: '' }))));
        return;
      }
      pending.push(
        spool.accept(name, filename, stream).catch((err: unknown) => {
          stream.resume();
          fail(err);
          return null;
        }),
      );
    });
    const tooMany = () => fail(new AppError('invalid_body', `A form may have at most ${MAX_PARTS} parts.`));
    parser.on('partsLimit', tooMany);
    parser.on('error', fail);
    parser.on('close', () => {
      void Promise.all(pending).then((files) => {
        if (settled) return;
        settled = true;
        resolve({ values, files: files.filter((f): f is UploadedFile => f !== null) });
      });
    });
    req.pipe(parser);
  });
}

function collectText(stream: NodeJS.ReadableStream, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}
