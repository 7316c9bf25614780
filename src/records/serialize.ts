import type { CollectionRuntime } from './runtime.js';
import type { ApiRecord, RequestInfo } from './types.js';

/** Expanded relations of a record, attached by expand.ts and written under `expand`. */
export type Expansion = Record<string, Presentable | Presentable[]>;
export interface Presentable {
  rt: CollectionRuntime;
  record: ApiRecord;
  expand?: Expansion;
  /** The requester passes this auth record's manageRule: its email is shown. */
  manageable?: boolean;
}

const NEVER_SHOWN = new Set(['password', 'tokenKey']);

/**
 * The record as the requester may see it (§1.3): hidden fields only for superusers,
 * password fields and auth `tokenKey` never, `email` only when visible, plus `collectionId`,
 * `collectionName` and `expand` — keys in alphabetical order, as PocketBase's map.
 */
export function present(item: Presentable, info: RequestInfo, showEmail = false): ApiRecord {
  const { rt, record } = item;
  const out: Record<string, unknown> = {};
  for (const key of outputOrder(rt)) {
    switch (key.kind) {
      case 'collectionId':
        out['collectionId'] = rt.collection.id;
        break;
      case 'collectionName':
        out['collectionName'] = rt.collection.name;
        break;
      case 'expand':
        if (item.expand) out['expand'] = presentExpansion(item.expand, info);
        break;
      case 'field':
        if (key.hidden && !info.superuser) break;
        if (key.email && !showEmail && !emailVisible(item, info)) break;
        out[key.name] = record[key.name];
    }
  }
  return out;
}

function presentExpansion(expansion: Expansion, info: RequestInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expansion).sort()) {
    const value = expansion[key]!;
    out[key] = Array.isArray(value) ? value.map((v) => present(v, info)) : present(value, info);
  }
  return out;
}

type OutputKey = { kind: 'collectionId' | 'collectionName' | 'expand' } | { kind: 'field'; name: string; hidden: boolean; email: boolean };
const ORDERS = new WeakMap<CollectionRuntime, OutputKey[]>();

/** The record's keys in alphabetical order, computed once per collection. */
function outputOrder(rt: CollectionRuntime): OutputKey[] {
  let order = ORDERS.get(rt);
  if (order) return order;
  const isAuth = rt.collection.type === 'auth';
  const keys: [string, OutputKey][] = [
    ['collectionId', { kind: 'collectionId' }],
    ['collectionName', { kind: 'collectionName' }],
    ['expand', { kind: 'expand' }],
  ];
  for (const field of rt.collection.fields) {
    // A password field's hash is never shown, whatever the collection (PocketBase's too).
    if ((isAuth && NEVER_SHOWN.has(field.name)) || field.type === 'password') continue;
    keys.push([field.name, { kind: 'field', name: field.name, hidden: field.hidden, email: isAuth && field.name === 'email' }]);
  }
  order = keys.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
  ORDERS.set(rt, order);
  return order;
}

function emailVisible({ rt, record, manageable }: Presentable, info: RequestInfo): boolean {
  if (info.superuser || manageable || record['emailVisibility'] === true) return true;
  return info.auth !== null && info.auth.collection.id === rt.collection.id && info.auth.record['id'] === record['id'];
}

