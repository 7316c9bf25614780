import { Router, type Request, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors/index.js';
import { findFile, type Files, type FoundFile } from '../files/index.js';
import { contentDisposition, etagOf, FILE_CACHE_CONTROL, FILE_CSP, notModified, parseRange } from '../files/download.js';
import { storedType } from '../files/mime.js';
import { ensureThumb, thumbKey, thumbSize, type ThumbSize } from '../files/thumbs.js';
import type { FileStorage, OpenedObject } from '../files/storage/types.js';
import { authOf, handle, type RecordsHttpDeps } from './routes-records.js';
import { queryString } from './request-info.js';
import { inFlightOf } from './in-flight.js';

/**
 * `GET /api/files/{collection}/{record}/{filename}` (§10): the stored file (or a thumb), with
 * PocketBase's headers, ranges and conditional requests; and `POST /api/files/token`.
 */
export function fileRoutes(deps: RecordsHttpDeps & { files: Files }): Router {
  const router = Router();
  const records = () => ({ runtime: deps.runtime(), runner: deps.runner, tokens: deps.tokens });

  router.post(
    '/api/files/token',
    handle(async (req) => {
      const auth = await authOf(deps, req);
      if (!auth) throw new AppError('unauthorized');
      const rt = deps.runtime().byId.get(auth.collection.id);
      if (!rt) throw new AppError('unauthorized');
      return { status: 200, body: { token: await deps.tokens.sign(rt, auth.record, 'file') } };
    }),
  );

  router.get('/api/files/:collection/:record/:filename', async (req, res, next) => {
    const inFlight = inFlightOf(req);
    inFlight?.start();
    try {
      const { collection, record, filename } = req.params;
      const found = await findFile(records(), collection, record, filename, queryString(req, 'token'));
      if (!found) throw new AppError('not_found', 'The requested file wasn\u0027t found.');
      const storage = deps.files.storage;
      const original = await storage.open(found.key);
      if (!original) throw new AppError('not_found', 'The requested file wasn\u0027t found.');
      let file = original;
      try {
        let mime = await storedType(found.key, file);
        const size = thumbSize(found.field, queryString(req, 'thumb'), mime);
        const thumb = size ? await openThumb(storage, found, size, mime) : null;
        if (thumb) {
          await file.close();
          [file, mime] = [thumb.file, thumb.mime];
        }
        await serve(req, res, file, mime, found.name, deps.files);
      } finally {
        await file.close();
      }
    } catch (err) {
      next(err);
    } finally {
      inFlight?.end();
    }
  });
  return router;
}

/** The thumb of an image, made when missing; null when sharp cannot read the image (it downloads as itself, as in PocketBase). */
async function openThumb(storage: FileStorage, found: FoundFile, size: ThumbSize, mime: string): Promise<{ file: OpenedObject; mime: string } | null> {
  const key = thumbKey(found.rt.collection.id, String(found.record['id']), found.name, size);
  try {
    await ensureThumb(storage, found.key, key, size, mime);
    const thumb = await storage.open(key);
    return thumb && { file: thumb, mime: await storedType(key, thumb) };
  } catch {
    return null;
  }
}

async function serve(req: Request, res: Response, stat: OpenedObject, mime: string, name: string, files: Files): Promise<void> {
  const etag = etagOf(stat);
  res.removeHeader('X-Frame-Options');
  res.setHeader('Content-Security-Policy', FILE_CSP);
  res.setHeader('Cache-Control', FILE_CACHE_CONTROL);
  res.setHeader('Content-Type', mime);
  res.setHeader('Content-Disposition', contentDisposition(name, mime, queryString(req, 'download')));
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', stat.modified.toUTCString());
  res.setHeader('Accept-Ranges', 'bytes');
  if (notModified(req.headers, stat)) {
    res.status(304).end();
    return;
  }
  const ifRange = req.headers['if-range'];
  const range = parseRange(req.headers.range, stat.size, typeof ifRange === 'string' ? ifRange : undefined, etag);
  if (range === 'bad') {
    res.setHeader('Content-Range', `bytes */${stat.size}`);
    res.status(416).end();
    return;
  }
  const length = range ? range.end - range.start + 1 : stat.size;
  res.setHeader('Content-Length', String(length));
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${stat.size}`);
  res.status(range ? 206 : 200);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const body = await stat.body(range);
  if (Buffer.isBuffer(body)) res.end(body);
  else await pipeline(body, res).catch(() => {}); // a client that hung up mid-download is no error
  files.plugin.metrics?.downloaded(length);
}
