import type { ByteRange, StoredObject } from './storage/types.js';
import { servedInline } from './mime.js';

/** PocketBase's headers for every served file. */
export const FILE_CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
export const FILE_CACHE_CONTROL = 'max-age=2592000, stale-while-revalidate=86400';

export function etagOf(stat: StoredObject): string {
  return `"${stat.size.toString(16)}-${stat.modified.getTime().toString(16)}"`;
}

/** `inline` for images, audio, video and PDF (unless `?download=1|true`), else `attachment`. */
export function contentDisposition(name: string, mime: string, download: string | undefined): string {
  const attachment = download === '1' || download === 'true' || !servedInline(mime);
  // Stored names are [\w.*\-+=#]: no quoting needed (PocketBase writes the bare name too).
  return `${attachment ? 'attachment' : 'inline'}; filename=${name}`;
}

/** Whether a conditional GET can be answered 304 (If-None-Match wins over If-Modified-Since). */
export function notModified(headers: { 'if-none-match'?: string | undefined; 'if-modified-since'?: string | undefined }, stat: StoredObject): boolean {
  const inm = headers['if-none-match'];
  if (inm) return inm.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === etagOf(stat));
  const ims = headers['if-modified-since'];
  if (!ims) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && Math.floor(stat.modified.getTime() / 1000) * 1000 <= since;
}

/**
 * The one range of a `Range: bytes=…` header: `start-end`, `start-` or `-suffix`. Undefined when
 * there is none to honour (absent, several ranges, another unit: the whole file is sent), 'bad'
 * when it cannot be satisfied (416).
 */
export function parseRange(header: string | undefined, size: number, ifRange: string | undefined, etag: string): ByteRange | 'bad' | undefined {
  if (!header) return undefined;
  if (ifRange && ifRange.trim() !== etag) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'bad';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'bad';
  return { start, end };
}
