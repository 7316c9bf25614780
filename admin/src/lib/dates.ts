/**
 * PocketBase dates are UTC text `YYYY-MM-DD HH:MM:SS.sssZ` ("" = no date). A
 * `<input type="datetime-local">` holds local wall time `YYYY-MM-DDTHH:MM[:SS[.sss]]`.
 */

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Parses a PocketBase date ("" / invalid → null). Accepts `T` or space separators. */
export function parsePbDate(value: unknown): Date | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  let s = value.trim().replace(' ', 'T');
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(s)) s += 'Z';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Date → `YYYY-MM-DD HH:MM:SS.sssZ` (UTC). */
export function toPbDate(d: Date): string {
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}

/** PocketBase date → value for a datetime-local input (local time, seconds precision; "" when empty). */
export function pbToLocalInput(value: unknown): string {
  const d = parsePbDate(value);
  if (!d) return '';
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return d.getMilliseconds() ? `${base}.${pad(d.getMilliseconds(), 3)}` : base;
}

/** datetime-local value (local time) → PocketBase date ("" stays ""). */
export function localInputToPb(value: string): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(value);
  if (!m) return '';
  const [, y, mo, da, h, mi, s, ms] = m;
  const d = new Date(Number(y), Number(mo) - 1, Number(da), Number(h), Number(mi), Number(s ?? 0), Number((ms ?? '0').padEnd(3, '0')));
  return Number.isNaN(d.getTime()) ? '' : toPbDate(d);
}

/** Short local rendering for tables: `2024-11-10 19:45:27`. */
export function formatLocal(value: unknown): string {
  const d = parsePbDate(value);
  if (!d) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The browser's UTC offset, e.g. `UTC+02:00`. */
export function localOffsetLabel(at = new Date()): string {
  const off = -at.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
