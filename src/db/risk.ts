import type { ColumnKind } from '../schema/index.js';
import type { Risk } from './plan-types.js';

/** Conversions that keep every value's meaning; everything else between kinds may lose data. */
const WIDENING = new Set(['bool>number', 'bool>text', 'number>text', 'date>text', 'ref>text', 'text>json', 'ref>json']);

export function conversionRisk(from: ColumnKind, to: ColumnKind): Risk {
  if (from === to) return 'safe';
  return WIDENING.has(`${from}>${to}`) ? 'rewrite' : 'destructive';
}
