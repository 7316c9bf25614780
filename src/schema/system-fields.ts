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

/** Where a built-in collection "comes from" in messages and in the schema's sources. */
export const BUILT_IN_FILE = '(built-in)';

/** One-time passwords of request-otp (code hashed; single use; expiry from `created`). */
export const OTPS_COLLECTION = '_otps';
/** Half-finished multi-factor sign-ins: which record passed which first method, and when. */
export const MFAS_COLLECTION = '_mfas';

/** PocketBase's own internal collections: built into Galley, never imported from an export. */
export const BUILT_IN_COLLECTIONS = new Set(['_superusers', MFAS_COLLECTION, OTPS_COLLECTION, '_externalAuths', '_authOrigins']);

const OWNER_RULE = "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId";

const systemText = (name: string, extra: Record<string, unknown> = {}) => ({ name, type: 'text', system: true, required: true, ...extra });
const systemDates = () => [
  { name: 'created', type: 'autodate', system: true, onCreate: true, onUpdate: false },
  { name: 'updated', type: 'autodate', system: true, onCreate: true, onUpdate: true },
];

function ownedBase(id: string, name: string, fields: Record<string, unknown>[], indexes: string[], deletable: boolean): Record<string, unknown> {
  return {
    id,
    name,
    type: 'base',
    system: true,
    listRule: OWNER_RULE,
    viewRule: OWNER_RULE,
    createRule: null,
    updateRule: null,
    deleteRule: deletable ? OWNER_RULE : null,
    fields: [systemText('collectionRef'), systemText('recordRef'), ...fields, ...systemDates()],
    indexes,
  };
}

/**
 * PocketBase's other system collections (migrations/1640988000_init.go), with its ids, fields, rules
 * and indexes, so `GET /api/collections` lists what PocketBase lists. `_otps` and `_mfas` hold
 * Galley's OTP codes and MFA sessions (src/auth/challenges.ts); `_externalAuths` and `_authOrigins`
 * stay empty until OAuth2 and the new-location alert exist.
 */
export function pocketBaseSystemCollections(): Record<string, unknown>[] {
  return [
    ownedBase('pbc_2279338944', MFAS_COLLECTION, [systemText('method')], ['CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (collectionRef,recordRef)'], false),
    ownedBase(
      'pbc_1638494021',
      OTPS_COLLECTION,
      [
        { name: 'password', type: 'password', system: true, hidden: true, required: true, cost: 8 },
        systemText('sentTo', { hidden: true, required: false }),
      ],
      ['CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (collectionRef, recordRef)'],
      false,
    ),
    ownedBase(
      'pbc_2281828961',
      '_externalAuths',
      [systemText('provider'), systemText('providerId')],
      [
        'CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider)',
        'CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId)',
      ],
      true,
    ),
    ownedBase('pbc_4275539003', '_authOrigins', [systemText('fingerprint')], ['CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (collectionRef, recordRef, fingerprint)'], true),
  ];
}

/** Field and collection names PocketBase refuses. */
export const RESERVED_FIELD_NAMES = new Set(['null', 'true', 'false', '_rowid_', 'collectionid', 'collectionname', 'expand']);
