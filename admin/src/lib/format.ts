import type { Field } from '../types';
import { formatLocal } from './dates';
import { htmlToText } from './html';

const MAX = 120;

export function truncate(text: string, max = MAX): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Text for a table cell or a conflict row (relations are rendered by the caller). */
export function displayValue(field: Field | undefined, value: unknown, max = MAX): string {
  if (value === null || value === undefined) return '';
  switch (field?.type) {
    case 'bool':
      return value ? 'true' : 'false';
    case 'date':
    case 'autodate':
      return formatLocal(value);
    case 'editor':
      return truncate(htmlToText(String(value)), max);
    case 'password':
      return value ? '••••••••' : '';
    case 'geoPoint': {
      const v = value as { lon?: number; lat?: number };
      return `${v.lon ?? 0}, ${v.lat ?? 0}`;
    }
    default:
      break;
  }
  if (Array.isArray(value)) return truncate(value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', '), max);
  if (typeof value === 'object') return truncate(JSON.stringify(value), max);
  return truncate(String(value), max);
}
