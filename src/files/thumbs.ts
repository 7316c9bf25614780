import type { FileStorage } from './storage/types.js';
import type { Field } from '../schema/index.js';
import { baseType } from './mime.js';
import { thumbsPrefix } from './plugin.js';

/** `WxH` (centre crop), `WxHt` (top), `WxHb` (bottom), `WxHf` (fit inside), `0xH`, `Wx0` (keep the ratio). */
const THUMB = /^(\d{1,4})x(\d{1,4})([tbf])?$/;

/** Originals PocketBase makes thumbs of; webp thumbs are stored as png. */
const THUMBABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export interface ThumbSize {
  text: string;
  width: number;
  height: number;
  mode: '' | 't' | 'b' | 'f';
}

/**
 * The thumb a `?thumb=` asks for, when it is allowed: `100x100` always, otherwise only sizes
 * listed in the field's `thumbs`; never `0x0`. Anything else: null (the original is served).
 */
export function thumbSize(field: Field, thumb: string | undefined, mime: string): ThumbSize | null {
  if (!thumb || !THUMBABLE.has(baseType(mime))) return null;
  const m = THUMB.exec(thumb);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  if (width === 0 && height === 0) return null;
  const listed = Array.isArray(field['thumbs']) && (field['thumbs'] as unknown[]).includes(thumb);
  if (thumb !== '100x100' && !listed) return null;
  return { text: thumb, width, height, mode: (m[3] ?? '') as ThumbSize['mode'] };
}

export function thumbKey(collectionId: string, recordId: string, name: string, size: ThumbSize): string {
  return `${thumbsPrefix(collectionId, recordId, name)}${size.text}_${name}`;
}

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp> | null = null;

/** Thumbs being made right now, by key: concurrent requests for one missing thumb share the work. */
const inProgress = new Map<string, Promise<void>>();

/** Makes the thumb at `key` from the original at `source` unless it exists; once per key at a time. */
export function ensureThumb(storage: FileStorage, source: string, key: string, size: ThumbSize, mime: string): Promise<void> {
  let work = inProgress.get(key);
  if (!work) {
    work = makeThumb(storage, source, key, size, mime).finally(() => inProgress.delete(key));
    inProgress.set(key, work);
  }
  return work;
}

/** How many thumbs this process generated (tests check that concurrent requests made one). */
export const thumbStats = { generated: 0 };

async function makeThumb(storage: FileStorage, source: string, key: string, size: ThumbSize, mime: string): Promise<void> {
  if (await storage.stat(key)) return;
  const input = await storage.read(source);
  if (!input) return;
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  sharpModule ??= import('sharp').then((m) => m.default);
  const sharp = await sharpModule;
  let image = sharp(Buffer.concat(chunks), { animated: false }).rotate();
  const { width, height, mode } = size;
  if (width === 0) image = image.resize({ height });
  else if (height === 0) image = image.resize({ width });
  else if (mode === 'f') image = image.resize(width, height, { fit: 'inside' });
  else image = image.resize(width, height, { fit: 'cover', position: mode === 't' ? 'top' : mode === 'b' ? 'bottom' : 'centre' });
  const type = baseType(mime);
  const [data, outType] =
    type === 'image/jpeg' ? [await image.jpeg().toBuffer(), type] : type === 'image/gif' ? [await image.gif().toBuffer(), type] : [await image.png().toBuffer(), 'image/png'];
  await storage.putBuffer(key, data, outType);
  thumbStats.generated++;
}
