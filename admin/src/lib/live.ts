import type { RecordData } from '../types';

/** A realtime event of the records list's collection, as the SDK hands it over. */
export interface LiveEvent {
  action: string;
  record: RecordData;
}

export interface LiveView {
  /** New records are shown only where they surely belong: the first page of an unfiltered list. */
  acceptsNew: boolean;
  perPage: number;
}

/**
 * The rows after one event, without reloading the page: a changed record is replaced in place, a
 * deleted one removed, a new one put first (on the first unfiltered page; the page keeps its size).
 * Rows are never duplicated, whatever order events arrive in.
 */
export function applyLiveEvent(rows: RecordData[], event: LiveEvent, view: LiveView): RecordData[] {
  const id = event.record.id;
  const at = rows.findIndex((r) => r.id === id);
  switch (event.action) {
    case 'update':
      return at < 0 ? rows : rows.map((r, i) => (i === at ? event.record : r));
    case 'delete':
      return at < 0 ? rows : rows.filter((_, i) => i !== at);
    case 'create':
      if (at >= 0 || !view.acceptsNew) return rows;
      return [event.record, ...rows].slice(0, view.perPage);
    default:
      return rows;
  }
}
