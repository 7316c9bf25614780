import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localInputToPb, parsePbDate, pbToLocalInput, toPbDate } from './dates';

describe('admin date conversions', () => {
  it('parses PocketBase dates (space or T, with or without Z) and rejects junk', () => {
    expect(parsePbDate('2024-03-15 05:00:45.123Z')?.toISOString()).toBe('2024-03-15T05:00:45.123Z');
    expect(parsePbDate('2024-03-15T05:00:45Z')?.toISOString()).toBe('2024-03-15T05:00:45.000Z');
    expect(parsePbDate('2024-03-15 05:00:45')?.toISOString()).toBe('2024-03-15T05:00:45.000Z');
    for (const junk of ['', '   ', 'yesterday', null, 42, undefined]) expect(parsePbDate(junk)).toBeNull();
  });

  it('formats as PocketBase UTC text', () => {
    expect(toPbDate(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toBe('2024-01-02 03:04:05.006Z');
  });

  it('an empty or malformed datetime-local value stays empty', () => {
    expect(pbToLocalInput('')).toBe('');
    expect(localInputToPb('')).toBe('');
    expect(localInputToPb('2024-13-45')).toBe('');
    expect(localInputToPb('not a date')).toBe('');
  });

  it('PocketBase → datetime-local → PocketBase gives the same instant (property)', () => {
    // Whole seconds or milliseconds, years 1970–2200; the input keeps milliseconds when present.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7_258_118_400_000 }), (ms) => {
        const text = toPbDate(new Date(ms));
        const local = pbToLocalInput(text);
        const back = localInputToPb(local);
        // A local wall time inside a DST fall-back hour names two instants; both are the same local text.
        expect(pbToLocalInput(back)).toBe(local);
        if (new Date(ms).getTimezoneOffset() === new Date(parsePbDate(back)!.getTime()).getTimezoneOffset()) expect(back).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
