import { Router, type Request, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors/index.js';
import { findFile, type Files } from '../files/index.js';
import { contentDisposition, etagOf, FILE_CACHE_CONTROL, FILE_CSP, notModified, parseRange } from '../files/download.js';
import { detectType, SNIFF_BYTES } from '../files/mime.js';
import { ensureThumb, thumbKey, thumbSize } from '../files/thumbs.js';
import type { FileStorage } from '../files/storage/types.js';
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
      let key = found.key;
      let mime = await sniff(storage, key);
      if (mime === null) throw new AppError('not_found', 'The requested file wasn\u0027t found.');
      const size = thumbSize(found.field, queryString(req, 'thumb'), mime);
      if (size) {
        const thumb = thumbKey(found.rt.collection.id, String(found.record['id']), found.name, size);
        try {
          await ensureThumb(storage, key, thumb, size, mime);
          const thumbMime = await sniff(storage, thumb);
          if (thumbMime) [key, mime] = [thumb, thumbMime];
        } catch {
          // An image sharp cannot read still downloads as itself, as in PocketBase.
        }
      }
      await serve(req, res, storage, key, mime, found.name, deps.files);
    } catch (err) {
      next(err);
    } finally {
      inFlight?.end();
    }
  });
  return router;
}

/** The stored object's type from its first bytes; null when it is not there. */
async function sniff(storage: FileStorage, key: string): Promise<string | null> {
  const stat = await storage.stat(key);
  if (!stat) return null;
  if (stat.size === 0) return 'application/octet-stream';
  const head = await storage.read(key, { start: 0, end: Math.min(stat.size, SNIFF_BYTES) - 1 });
  if (!head) return null;
  const chunks: Buffer[] = [];
  for await (const c of head) chunks.push(c as Buffer);
  return (await detectType(Buffer.concat(chunks))).mime;
}

async function serve(req: Request, res: Response, storage: FileStorage, key: string, mime: string, name: string, files: Files): Promise<void> {
  const stat = await storage.stat(key);
  if (!stat) throw new AppError('not_found', 'The requested file wasn\u0027t found.');
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
  const body = await storage.read(key, range);
  if (!body) throw new AppError('not_found');
  await pipeline(body, res).catch(() => {}); // a client that hung up mid-download is no error
  files.plugin.metrics?.downloaded(length);
}
