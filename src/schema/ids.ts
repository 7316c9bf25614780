/**
 * Deterministic ids, computed the way PocketBase does so that collections and
 * fields written by hand get the same ids as a PocketBase export would carry.
 */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE) of the UTF-8 bytes of `text`. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** @example collectionIdFor('auth', '_superusers') === 'pbc_3142635823' */
export function collectionIdFor(type: string, name: string): string {
  return `pbc_${crc32(type + name)}`;
}

/** @example fieldIdFor('text', 'id') === 'text3208210256' */
export function fieldIdFor(type: string, name: string): string {
  return `${type}${crc32(name)}`;
}
