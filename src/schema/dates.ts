/** PocketBase's date text: `YYYY-MM-DD HH:MM:SS.mmmZ`, UTC, with a space. */
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses the date forms PocketBase accepts; returns null when the text is not a date. */
export function parseDate(text: string): Date | null {
  const m = DATE_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '0', zone = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}.${String(ms).padStart(3, '0')}${zone.toUpperCase() === 'Z' ? 'Z' : normalizeZone(zone)}`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return null;
  // Reject dates JavaScript silently rolls over (2023-02-31).
  if (zone.toUpperCase() === 'Z' && date.getUTCDate() !== Number(d)) return null;
  return date;
}

function normalizeZone(zone: string): string {
  const digits = zone.replace(':', '');
  return `${digits.slice(0, 3)}:${digits.slice(3)}`;
}

/** @example formatDate(new Date(0)) === '1970-01-01 00:00:00.000Z' */
export function formatDate(date: Date): string {
  return date.toISOString().replace('T', ' ');
}
