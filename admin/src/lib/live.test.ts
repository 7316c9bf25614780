import { describe, expect, it } from 'vitest';
import type { RecordData } from '../types';
import { applyLiveEvent } from './live';

const row = (id: string, title = id) => ({ id, title, collectionId: 'k', collectionName: 'kitchen' }) as unknown as RecordData;
const view = { acceptsNew: true, perPage: 3 };

describe('applyLiveEvent', () => {
  it('replaces a changed row in place and removes a deleted one', () => {
    const rows = [row('a'), row('b'), row('c')];
    expect(applyLiveEvent(rows, { action: 'update', record: row('b', 'B!') }, view).map((r) => r['title'])).toEqual(['a', 'B!', 'c']);
    expect(applyLiveEvent(rows, { action: 'delete', record: row('b') }, view).map((r) => r.id)).toEqual(['a', 'c']);
    expect(applyLiveEvent(rows, { action: 'update', record: row('z') }, view)).toBe(rows);
  });

  it('puts a new record first on the first unfiltered page, keeping the page size, never twice', () => {
    const rows = [row('a'), row('b'), row('c')];
    const next = applyLiveEvent(rows, { action: 'create', record: row('n') }, view);
    expect(next.map((r) => r.id)).toEqual(['n', 'a', 'b']);
    expect(applyLiveEvent(next, { action: 'create', record: row('n') }, view)).toBe(next);
    expect(applyLiveEvent(rows, { action: 'create', record: row('n') }, { ...view, acceptsNew: false })).toBe(rows);
  });
});
