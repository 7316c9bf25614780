import { randomInt } from 'node:crypto';

/** PocketBase's alphabet for the random parts of stored file names. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const EXT_INVALID = /[^\w.*\-+=#]+/g;
const SPLIT = /[^A-Za-z0-9]+/;

export function randomPart(length = 10): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/**
 * The stored name of an upload (PocketBase's `normalizeName`): snake_case base (padded with 10
 * random characters under 3, cut to 100), `_`, 10 random characters, the cleaned extension
 * (double extensions kept, ≤ 20 characters, case preserved; from the content when missing).
 */
export function storedFileName(original: string, detectedExt: string): string {
  const ext = extractExtension(original);
  let cleanExt = ext.replace(EXT_INVALID, '');
  if (cleanExt === '' || cleanExt === '.') cleanExt = detectedExt;
  if (cleanExt.length > 20) cleanExt = '.' + cleanExt.slice(-20).replace(/^\.+/, '');
  let base = snakecase(original.slice(0, original.length - ext.length));
  if (base.length < 3) base += randomPart();
  else if (base.length > 100) base = base.slice(0, 100);
  return `${base}_${randomPart()}${cleanExt}`;
}

/** `.tar.gz` of `a.tar.gz`: the extension with one secondary extension, as PocketBase extracts it. */
export function extractExtension(name: string): string {
  const primary = name.lastIndexOf('.');
  if (primary === -1) return '';
  const secondary = name.lastIndexOf('.', primary - 1);
  return secondary >= 0 ? name.slice(secondary) : name.slice(primary);
}

/** PocketBase's `inflector.Snakecase`: split at non-word characters and camelCase humps, lower-cased. */
export function snakecase(text: string): string {
  const words: string[] = [];
  for (const word of text.split(SPLIT)) {
    if (word === '') continue;
    let out = '';
    for (let i = 0; i < word.length; i++) {
      const c = word[i]!;
      if (i > 0 && isUpper(c) && !isUpper(word[i - 1]!)) out += '_';
      out += c;
    }
    words.push(out);
  }
  return words.join('_').toLowerCase();
}

function isUpper(c: string): boolean {
  return c >= 'A' && c <= 'Z';
}

/**
 * Whether a stored name is safe as one path segment: what Galley generates always is; names
 * kept from a record (or a copied PocketBase storage) are checked before they reach a key.
 */
export function isSafeName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && !name.startsWith('thumbs_');
}
