import { formatDate } from '../schema/index.js';
import type { Const } from './values.js';

/** PocketBase's datetime macros (all UTC), evaluated once per request. */
export function macroValue(name: string, now: Date): Const | undefined {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const day = 24 * 3600 * 1000;
  switch (name) {
    case '@now':
      return formatDate(now);
    case '@yesterday':
      return formatDate(new Date(now.getTime() - day));
    case '@tomorrow':
      return formatDate(new Date(now.getTime() + day));
    case '@todayStart':
      return formatDate(new Date(Date.UTC(y, m, d)));
    case '@todayEnd':
      return formatDate(new Date(Date.UTC(y, m, d, 23, 59, 59, 999)));
    case '@monthStart':
      return formatDate(new Date(Date.UTC(y, m, 1)));
    case '@monthEnd':
      return formatDate(new Date(Date.UTC(y, m + 1, 0, 23, 59, 59, 999)));
    case '@yearStart':
      return formatDate(new Date(Date.UTC(y, 0, 1)));
    case '@yearEnd':
      return formatDate(new Date(Date.UTC(y, 11, 31, 23, 59, 59, 999)));
    case '@second':
      return now.getUTCSeconds();
    case '@minute':
      return now.getUTCMinutes();
    case '@hour':
      return now.getUTCHours();
    case '@day':
      return d;
    case '@month':
      return m + 1;
    case '@weekday':
      return now.getUTCDay();
    case '@year':
      return y;
    default:
      return undefined;
  }
}
