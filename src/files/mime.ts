/** How many leading bytes content sniffing reads (file-type's own default sample). */
export const SNIFF_BYTES = 4100;

export interface Detected {
  /** e.g. `image/png`, `text/plain; charset=utf-8`, `application/octet-stream`. */
  mime: string;
  /** With its dot, e.g. `.png`; '' when unknown. */
  ext: string;
}

let fileType: Promise<typeof import('file-type')> | null = null;

/**
 * The type of a file from its first bytes (never its name or the client's Content-Type):
 * file-type's signatures, then UTF-8 text, else `application/octet-stream` — the families
 * PocketBase's detector reports for the same content.
 */
export async function detectType(head: Buffer): Promise<Detected> {
  fileType ??= import('file-type'); // loaded with the first upload or download
  const found = head.length > 0 ? await (await fileType).fileTypeFromBuffer(head) : undefined;
  if (found) return { mime: found.mime, ext: `.${found.ext}` };
  if (looksLikeText(head)) return { mime: 'text/plain; charset=utf-8', ext: '.txt' };
  return { mime: 'application/octet-stream', ext: '' };
}

function looksLikeText(head: Buffer): boolean {
  if (head.length === 0) return true;
  if (head.includes(0)) return false;
  // A multi-byte character cut at the end of the sample is still text.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const bad = text.indexOf('\uFFFD');
  return bad === -1 || bad >= text.length - 3;
}

/** The media type without parameters, lower-cased: `text/plain` of `text/plain; charset=utf-8`. */
export function baseType(mime: string): string {
  return mime.split(';')[0]!.trim().toLowerCase();
}

/** Whether `mime` is one of `accepted` (a field's `mimeTypes`); an empty list accepts anything. */
export function mimeAccepted(mime: string, accepted: readonly string[]): boolean {
  if (accepted.length === 0) return true;
  const base = baseType(mime);
  return accepted.some((a) => baseType(a) === base);
}

const INLINE = /^(image\/(png|jpe?g|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)|audio\/|video\/|application\/pdf$)/;

/** PocketBase serves images, common audio/video and PDF inline, everything else as an attachment. */
export function servedInline(mime: string): boolean {
  return INLINE.test(baseType(mime));
}
