import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/** Bodies under 1 KB are sent as they are: compressing them saves little and costs a zlib stream. */
export const COMPRESSION_THRESHOLD = 1024;

/**
 * gzip or brotli (quality 4, the middleware's default: fast enough per request) by
 * `Accept-Encoding`, for compressible types over the threshold. Precompressed assets already
 * carry a Content-Encoding and pass through untouched.
 */
export function compressResponses(): RequestHandler {
  return compression({ threshold: COMPRESSION_THRESHOLD, filter: shouldCompress });
}

function shouldCompress(req: Request, res: Response): boolean {
  // Server-sent events must reach the client one by one; a compressor would hold them back.
  if (/^text\/event-stream/i.test(String(res.getHeader('Content-Type') ?? ''))) return false;
  // Stored files go out as stored: range requests, and most are compressed formats already.
  if (req.originalUrl.startsWith('/api/files/')) return false;
  // Compressible types only (mime-db): never images, archives, video.
  return compression.filter(req, res);
}
