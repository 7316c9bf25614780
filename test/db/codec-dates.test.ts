/**
 * decodeDate's fast paths (the API form SQLite stores, PostgreSQL's UTC text) give exactly what
 * the general parser gives, for any instant; other forms still go through the parser.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDate } from '../../src/db/codec.js';
import { formatDate } from '../../src/schema/index.js';

const instants = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true });

/** PostgreSQL's timestamptz text in a UTC session: trailing zeros of the fraction trimmed, `+00`. */
function pgText(date: Date, micros: number): string {
  const base = date.toISOString().slice(0, 19).replace('T', ' ');
  const fraction = `${String(date.getUTCMilliseconds()).padStart(3, '0')}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}+00`;
}

describe('decodeDate', () => {
  it('returns the API form of a stored API-form date unchanged', () => {
    fc.assert(
      fc.property(instants, (date) => {
        expect(decodeDate(formatDate(date))).toBe(formatDate(date));
      }),
    );
  });

  it("turns PostgreSQL's UTC text into the API form, microseconds truncated", () => {
    fc.assert(
      fc.property(instants, fc.integer({ min: 0, max: 999 }), (date, micros) => {
        expect(decodeDate(pgText(date, micros))).toBe(formatDate(date));
      }),
    );
  });

  it.each([
    ['2024-01-02 03:04:05+00', '2024-01-02 03:04:05.000Z'],
    ['2024-01-02 03:04:05.5+00', '2024-01-02 03:04:05.500Z'],
    ['2024-01-02 05:04:05.5+02', '2024-01-02 03:04:05.500Z'],
    ['2024-01-02T03:04:05Z', '2024-01-02 03:04:05.000Z'],
    ['-infinity', ''],
    ['', ''],
    ['not a date', 'not a date'],
  ])('%s → %s', (raw, api) => expect(decodeDate(raw)).toBe(api));
});
