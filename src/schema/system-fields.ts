import { fieldIdFor } from './ids.js';
import type { Collection, Field } from './types.js';

const base = (type: string, name: string, extra: Record<string, unknown>): Field => ({
  id: fieldIdFor(type, name),
  name,
  type,
  system: true,
  hidden: false,
  presentable: false,
  required: false,
  ...extra,
});

/** The implicit primary key of every base and auth collection. */
export const idField = (): Field =>
  base('text', 'id', {
    required: true,
    primaryKey: true,
    min: 15,
    max: 15,
    pattern: '^[a-z0-9]+$',
    autogeneratePattern: '[a-z0-9]{15}',
  });

/** The fields PocketBase forces on every auth collection, in its order (after `id`). */
export const authSystemFields = (): Field[] => [
  base('password', 'password', { hidden: true, required: true, min: 8, max: 0, pattern: '', cost: 0 }),
  base('text', 'tokenKey', { hidden: true, required: true, min: 30, max: 60, pattern: '', autogeneratePattern: '[a-zA-Z0-9]{50}', primaryKey: false }),
  base('email', 'email', { required: true, exceptDomains: null, onlyDomains: null }),
  base('bool', 'emailVisibility', {}),
  base('bool', 'verified', {}),
];

export const AUTH_SYSTEM_FIELD_NAMES = new Set(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified']);

/** Indexes every auth collection carries (PocketBase names them after the collection id). */
export function authSystemIndexes(collection: Pick<Collection, 'id' | 'name'>): string[] {
  return [
    `CREATE UNIQUE INDEX \`idx_tokenKey_${collection.id}\` ON \`${collection.name}\` (\`tokenKey\`)`,
    `CREATE UNIQUE INDEX \`idx_email_${collection.id}\` ON \`${collection.name}\` (\`email\`) WHERE \`email\` != ''`,
  ];
}

/** Galley's built-in superusers collection; the SDK recognises it by this id and name. */
export function superusersCollection(): Record<string, unknown> {
  return {
    id: 'pbc_3142635823',
    name: '_superusers',
    type: 'auth',
    system: true,
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    authRule: '',
    manageRule: null,
    fields: [
      { name: 'created', type: 'autodate', system: true, onCreate: true, onUpdate: false },
      { name: 'updated', type: 'autodate', system: true, onCreate: true, onUpdate: true },
    ],
    indexes: [],
    authToken: { duration: 86400 },
  };
}

/** Field and collection names PocketBase refuses. */
export const RESERVED_FIELD_NAMES = new Set(['null', 'true', 'false', '_rowid_', 'collectionid', 'collectionname', 'expand']);
