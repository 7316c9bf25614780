import { formatDate, parseDate } from '../schema/index.js';
import type { DialectName } from './dialects/index.js';
import type { ColumnSpec } from './model.js';

/**
 * The mapping between API values (what PocketBase's JSON carries) and the values
 * stored in a column, per column kind and engine. The API layer validates and
 * normalizes values first; the codec only changes their representation.
 *
 * | kind   | API value                     | SQLite                | PostgreSQL                    |
 * |--------|-------------------------------|-----------------------|-------------------------------|
 * | text   | string                        | text                  | text                          |
 * | number | number                        | numeric               | double precision              |
 * | bool   | boolean                       | 0 / 1                 | boolean                       |
 * | json   | any JSON value (null: SQL NULL)| JSON text            | jsonb (bound as JSON text)    |
 * | date   | `YYYY-MM-DD HH:MM:SS.mmmZ`/'' | that text / ''        | timestamptz / `-infinity`     |
 * | ref    | record id / ''                | id / NULL             | id / NULL                     |
 */

/** PostgreSQL's zero date: sorts before every other date, as '' does in SQLite. */
const PG_ZERO_DATE = '-infinity';

export function encodeValue(column: ColumnSpec, value: unknown, dialect: DialectName): unknown {
  switch (column.kind) {
    case 'text':
      return value === null || value === undefined ? '' : String(value);
    case 'number':
      return encodeNumber(column, value);
    case 'bool': {
      const b = value === true || value === 1 || value === 'true' || value === '1';
      return dialect === 'sqlite' ? (b ? 1 : 0) : b;
    }
    case 'json':
      // undefined/null: SQL NULL where the column allows it (the json field), the zero ([] / {lon,lat}) elsewhere.
      if (value === undefined || value === null) return column.nullable ? null : JSON.stringify(column.zero);
      return JSON.stringify(value);
    case 'date':
      return encodeDate(column, value, dialect);
    case 'ref':
      return value === null || value === undefined || value === '' ? null : String(value);
  }
}

export function decodeValue(column: ColumnSpec, raw: unknown, dialect: DialectName): unknown {
  switch (column.kind) {
    case 'text':
      return raw === null || raw === undefined ? '' : String(raw);
    case 'number':
      return raw === null || raw === undefined ? 0 : Number(raw);
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      return raw === null || raw === undefined ? false : Number(raw) !== 0 && raw !== 'false';
    case 'json':
      return decodeJson(column, raw, dialect);
    case 'date':
      return decodeDate(raw);
    case 'ref':
      return raw === null || raw === undefined ? '' : String(raw);
  }
}

function encodeNumber(column: ColumnSpec, value: unknown): number {
  if (value === null || value === undefined || value === '') return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`column "${column.name}": ${JSON.stringify(value)} is not a finite number`);
  return n;
}

function encodeDate(column: ColumnSpec, value: unknown, dialect: DialectName): string {
  if (value === null || value === undefined || value === '') return dialect === 'postgres' ? PG_ZERO_DATE : '';
  const date = value instanceof Date ? value : typeof value === 'string' ? parseDate(value) : null;
  if (!date || Number.isNaN(date.getTime())) throw new TypeError(`column "${column.name}": ${JSON.stringify(value)} is not a date`);
  // Always the canonical UTC form: SQLite compares the text, PostgreSQL parses it.
  return formatDate(date);
}

const API_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PG_UTC_DATE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\+00$/;

/** A stored date (SQLite text, PostgreSQL timestamptz text) in PocketBase's API form; the zero date is ''. */
export function decodeDate(raw: unknown): string {
  if (raw === null || raw === undefined || raw === '' || raw === PG_ZERO_DATE) return '';
  if (raw instanceof Date) return formatDate(raw);
  const text = String(raw);
  // Fast paths for what Galley itself stores (~10x faster than parsing: ~0.3 µs instead of ~3 µs
  // a value, 90 values a 30-row page): SQLite keeps the API form; PostgreSQL, whose session runs
  // in UTC, answers `2024-01-02 03:04:05.6+00` (fraction trimmed of zeros, or absent).
  if (API_DATE.test(text)) return text;
  const utc = PG_UTC_DATE.exec(text);
  if (utc) return `${utc[1]}.${(utc[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  // PostgreSQL's text form abbreviates whole-hour zones (`+00`); parseDate wants `+00:00`.
  const parsed = parseDate(text.replace(/([+-]\d{2})$/, '$1:00'));
  return parsed ? formatDate(parsed) : text;
}

function decodeJson(column: ColumnSpec, raw: unknown, dialect: DialectName): unknown {
  if (raw === null || raw === undefined) return column.nullable ? null : structuredClone(column.zero);
  // pg parses jsonb itself; SQLite hands back the text (or a number: its JSON columns have numeric affinity).
  if (dialect === 'postgres' || typeof raw !== 'string') return raw;
  return JSON.parse(raw);
}
