/**
 * Converts a PocketBase "Export collections" file into Galley collection
 * objects, one per file. Both generations are accepted (and mixed): v0.23+
 * collections pass through nearly unchanged, pre-0.23 ones are rewritten the
 * way PocketBase's own v0.23 upgrade migration rewrites them
 * (pocketbase-api.md §6.3), so ids and references survive the import.
 */
import { fieldIdFor } from './ids.js';
import { parseIndex } from './index-sql.js';
import { parseableViewQuery, sqlParser } from './view-query.js';
import { BUILT_IN_COLLECTIONS } from './system-fields.js';

export interface ImportResult {
  collections: Record<string, unknown>[];
  notes: string[];
}

/** The input is not a PocketBase export at all; the CLI reports it and exits 2. */
export class PocketBaseExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PocketBaseExportError';
  }
}

type Json = Record<string, unknown>;

/** PocketBase's id for its default `users` collection; old exports reference it without including it. */
export const DEFAULT_USERS_ID = '_pb_users_auth_';
/** What the v0.23 migration writes for an unlimited (`maxSelect: null`) relation. */
export const UNLIMITED_RELATION = 2147483647;

const RULE_KEYS = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const;

interface Context {
  notes: string[];
  /** Lower-cased index names in use anywhere in the export; Galley wants them unique across collections. */
  indexNames: Set<string>;
}

/** Converts a parsed PocketBase export (either generation, or a mix) into Galley collection objects. */
export function convertPocketBaseExport(data: unknown): ImportResult {
  const items = exportItems(data);
  const ctx: Context = { notes: [], indexNames: usedIndexNames(items) };
  const collections: Json[] = [];
  for (const item of items) {
    // Only PocketBase's own internal collections are skipped: an app's collection flagged "system"
    // (protected from deletion in PocketBase's UI) is the app's data and is imported like any other.
    if (isPocketBaseInternal(item)) {
      ctx.notes.push(skippedSystemNote(String(item['name'])));
      continue;
    }
    collections.push(isLegacy(item) ? convertLegacyCollection(item, ctx) : convertCurrentCollection(item, ctx));
  }
  addDefaultUsersIfReferenced(collections, ctx.notes);
  return { collections, notes: ctx.notes };
}

/** Serializes one collection as the text of its file: 2-space JSON and a trailing newline. */
export function collectionFileText(collection: Record<string, unknown>): string {
  return JSON.stringify(collection, null, 2) + '\n';
}

// ---------------------------------------------------------------------------
// Input shape

/** Accepts the export array, or the `{collections: [...]}` body of PocketBase's import endpoint. */
function exportItems(data: unknown): Json[] {
  const list = isObject(data) && 'collections' in data ? data['collections'] : data;
  if (!Array.isArray(list)) {
    throw new PocketBaseExportError('not a PocketBase collections export: expected a JSON array of collections (or {"collections": [...]})');
  }
  return list.map((item, i) => {
    if (!isObject(item)) throw new PocketBaseExportError(`item ${i} of the export is not a JSON object`);
    if (typeof item['name'] !== 'string' || item['name'] === '') throw new PocketBaseExportError(`item ${i} of the export has no "name"`);
    return structuredClone(item);
  });
}

/** Pre-0.23 collections carry `schema` (nested field options) instead of `fields`. */
function isLegacy(item: Json): boolean {
  return Array.isArray(item['schema']) && !Array.isArray(item['fields']);
}

function isPocketBaseInternal(item: Json): boolean {
  return BUILT_IN_COLLECTIONS.has(String(item['name']));
}

function skippedSystemNote(name: string): string {
  return name === '_superusers' ? `${name}: skipped (built into Galley)` : `${name}: skipped (built into Galley as PocketBase has it)`;
}

// ---------------------------------------------------------------------------
// v0.23+

/** A v0.23+ collection is already Galley's format; only what an export should not carry is removed. */
function convertCurrentCollection(item: Json, ctx: Context): Json {
  const name = String(item['name']);
  delete item['created'];
  delete item['updated'];
  const oauth2 = item['oauth2'];
  if (isObject(oauth2) && 'providers' in oauth2) {
    // Provider secrets are never exported, so a provider list cannot work as-is.
    if (Array.isArray(oauth2['providers']) && oauth2['providers'].length > 0) {
      ctx.notes.push(`${name}: oauth2.providers dropped (client secrets are not part of an export; configure providers again)`);
    }
    delete oauth2['providers'];
  }
  return item;
}

// ---------------------------------------------------------------------------
// pre-0.23: collections

function convertLegacyCollection(item: Json, ctx: Context): Json {
  const name = String(item['name']);
  const type = typeof item['type'] === 'string' ? item['type'] : 'base';
  const options = isObject(item['options']) ? item['options'] : {};
  const indexes = stringList(item['indexes']) ?? [];
  const fields = (item['schema'] as unknown[]).filter(isObject).map((field) => convertLegacyField(field, name, ctx));
  indexes.push(...uniqueFieldIndexes(item, name, indexes, ctx));

  const result: Json = {};
  if (typeof item['id'] === 'string' && item['id'] !== '') result['id'] = item['id'];
  Object.assign(result, legacyRules(item));
  result['name'] = name;
  result['type'] = type;
  result['fields'] = fields;
  result['indexes'] = indexes;
  result['system'] = item['system'] === true;

  if (type === 'auth') convertLegacyAuth(result, options, ctx);
  if (type === 'view') result['viewQuery'] = typeof options['query'] === 'string' ? options['query'] : '';
  addAutodateFields(result, ctx);
  noteRenamedRules(item, options, result, ctx);
  return result;
}

/** `@request.data` was renamed `@request.body` in v0.23. */
export function migrateRule(rule: unknown): string | null {
  return typeof rule === 'string' ? rule.replace(/@request\.data\b/g, '@request.body') : null;
}

function legacyRules(item: Json): Json {
  return Object.fromEntries(RULE_KEYS.map((key) => [key, migrateRule(item[key])]));
}

function noteRenamedRules(item: Json, options: Json, result: Json, ctx: Context): void {
  const before: Json = { ...item, manageRule: options['manageRule'] };
  const renamed = [...RULE_KEYS, 'manageRule'].filter((key) => key in result && typeof before[key] === 'string' && /@request\.data\b/.test(before[key]));
  if (renamed.length > 0) ctx.notes.push(`${String(result['name'])}: "@request.data" became "@request.body" in ${renamed.join(', ')}`);
}

/**
 * Auth settings moved from `options` to top-level keys and to the (now
 * explicit) email/password fields; `username` became an ordinary field.
 * The other system fields stay implicit: Galley adds them, merging in the
 * email and password entries written here.
 */
function convertLegacyAuth(result: Json, options: Json, ctx: Context): void {
  const name = String(result['name']);
  const fields = result['fields'] as Json[];
  const indexes = result['indexes'] as string[];
  const own: Json[] = [legacyEmailField(options)];
  if (typeof options['minPasswordLength'] === 'number') own.unshift(legacyPasswordField(options['minPasswordLength']));
  if (!fields.some((f) => f['name'] === 'username')) {
    own.push(usernameField());
    if (!indexes.some((sql) => isSingleColumnUnique(sql, 'username'))) indexes.push(usernameIndex(result, ctx));
  }
  result['fields'] = [...own, ...fields];

  result['authRule'] = options['onlyVerified'] === true ? 'verified=true' : '';
  const manageRule = options['manageRule'];
  result['manageRule'] = typeof manageRule === 'string' && manageRule !== '' ? migrateRule(manageRule) : null;
  // Providers lived in the app settings, which an export never contains.
  result['oauth2'] = { enabled: false, mappedFields: { username: 'username' } };
  if (options['allowOAuth2Auth'] === true) ctx.notes.push(`${name}: OAuth2 sign-in was allowed, but providers are app settings that an export does not contain; oauth2 left disabled`);
  result['passwordAuth'] = legacyPasswordAuth(options);
}

function legacyEmailField(options: Json): Json {
  return {
    name: 'email',
    type: 'email',
    required: options['requireEmail'] === true,
    exceptDomains: stringList(options['exceptEmailDomains']),
    onlyDomains: stringList(options['onlyEmailDomains']),
  };
}

/**
 * Galley fills a written field's defaults before merging it over the system
 * field, so `hidden` and `required` must be spelled out or they reset to false.
 */
function legacyPasswordField(min: number): Json {
  return { name: 'password', type: 'password', hidden: true, required: true, min: int(min) };
}

function legacyPasswordAuth(options: Json): Json {
  const identityFields = [
    ...(options['allowEmailAuth'] === true ? ['email'] : []),
    ...(options['allowUsernameAuth'] === true ? ['username'] : []),
  ];
  return { enabled: identityFields.length > 0, identityFields };
}

/** The field the v0.23 migration substitutes for the old implicit username column. */
function usernameField(): Json {
  return {
    autogeneratePattern: 'users[0-9]{6}',
    hidden: false,
    id: fieldIdFor('text', 'username'),
    max: 150,
    min: 3,
    name: 'username',
    pattern: '^[\\w][\\w\\.\\-]*$',
    presentable: false,
    primaryKey: false,
    required: true,
    system: false,
    type: 'text',
  };
}

function usernameIndex(collection: Json, ctx: Context): string {
  const name = String(collection['name']);
  const indexName = freeIndexName(ctx, [`_${String(collection['id'] ?? name)}_username_idx`, `idx_username_${name}`]);
  return `CREATE UNIQUE INDEX \`${indexName}\` ON \`${name}\` (\`username\` COLLATE NOCASE)`;
}

/**
 * `id`, `created` and `updated` were implicit columns before v0.23. Base and
 * auth collections always had the dates; a view has them only when its query
 * selects them (PocketBase checks the view's columns, we read its SELECT list).
 */
function addAutodateFields(result: Json, ctx: Context): void {
  const fields = result['fields'] as Json[];
  const has = (field: string) => fields.some((f) => String(f['name']).toLowerCase() === field);
  const wanted = result['type'] === 'view' ? viewOutputColumns(String(result['viewQuery'])) : new Set(['created', 'updated']);
  const added: string[] = [];
  for (const [field, onUpdate] of [['created', false], ['updated', true]] as const) {
    if (!wanted.has(field) || has(field)) continue;
    fields.push(autodateField(field, onUpdate));
    added.push(field);
  }
  if (result['type'] === 'view' && added.length > 0) ctx.notes.push(`${String(result['name'])}: view selects ${added.join(' and ')}; added as autodate field${added.length > 1 ? 's' : ''}`);
}

function autodateField(name: string, onUpdate: boolean): Json {
  return { hidden: false, id: fieldIdFor('autodate', name), name, onCreate: true, onUpdate, presentable: false, system: false, type: 'autodate' };
}

/** Lower-cased output column names of a view's SELECT; empty when it does not parse or uses `*`. */
export function viewOutputColumns(sql: string): Set<string> {
  let ast: unknown;
  try {
    ast = sqlParser().astify(parseableViewQuery(sql), { database: 'sqlite' });
  } catch {
    return new Set();
  }
  const select = (Array.isArray(ast) ? ast[0] : ast) as { columns?: unknown } | undefined;
  const columns = Array.isArray(select?.columns) ? (select.columns as unknown[]) : [];
  return new Set(columns.map(outputName).filter((n): n is string => n !== undefined).map((n) => n.toLowerCase()));
}

function outputName(column: unknown): string | undefined {
  if (!isObject(column)) return undefined;
  if (typeof column['as'] === 'string') return column['as'];
  const expr = column['expr'];
  if (!isObject(expr) || expr['type'] !== 'column_ref') return undefined;
  const name = expr['column'];
  if (typeof name === 'string') return name;
  // Newer parser versions wrap the name: {expr: {type: 'default', value: 'x'}}.
  const inner = isObject(name) && isObject(name['expr']) ? name['expr']['value'] : undefined;
  return typeof inner === 'string' ? inner : undefined;
}

// ---------------------------------------------------------------------------
// pre-0.23: fields

type OptionConverter = (options: Json) => Json;

/** Each type's nested `options`, hoisted and renamed to the v0.23 keys. */
const LEGACY_OPTIONS: Record<string, OptionConverter> = {
  text: (o) => ({ min: int(o['min']), max: int(o['max']), pattern: str(o['pattern']), autogeneratePattern: str(o['autogeneratePattern']) }),
  number: (o) => ({ min: num(o['min']), max: num(o['max']), onlyInt: o['noDecimal'] === true }),
  bool: () => ({}),
  email: (o) => ({ exceptDomains: stringList(o['exceptDomains']), onlyDomains: stringList(o['onlyDomains']) }),
  url: (o) => ({ exceptDomains: stringList(o['exceptDomains']), onlyDomains: stringList(o['onlyDomains']) }),
  editor: (o) => ({ convertURLs: o['convertUrls'] === true }),
  date: (o) => ({ min: str(o['min']), max: str(o['max']) }),
  select: (o) => ({ maxSelect: atLeastOne(o['maxSelect']), values: stringList(o['values']) ?? [] }),
  json: (o) => ({ maxSize: int(o['maxSize']) }),
  file: (o) => ({
    maxSelect: atLeastOne(o['maxSelect']),
    maxSize: int(o['maxSize']),
    mimeTypes: stringList(o['mimeTypes']),
    thumbs: stringList(o['thumbs']),
    protected: o['protected'] === true,
  }),
  relation: (o) => ({
    cascadeDelete: o['cascadeDelete'] === true,
    collectionId: str(o['collectionId']),
    maxSelect: relationMaxSelect(o['maxSelect']),
    minSelect: int(o['minSelect']),
  }),
  // Very old exports: a `user` field pointed at the users (then "profiles") system.
  user: (o) => ({ cascadeDelete: o['cascadeDelete'] === true, collectionId: DEFAULT_USERS_ID, maxSelect: relationMaxSelect(o['maxSelect']), minSelect: 0 }),
};

function convertLegacyField(raw: Json, collection: string, ctx: Context): Json {
  const oldType = String(raw['type']);
  const options = isObject(raw['options']) ? raw['options'] : {};
  const converter = LEGACY_OPTIONS[oldType];
  if (!converter) ctx.notes.push(`${collection}: field "${String(raw['name'])}" has unknown type "${oldType}"; its options were copied as they are`);
  if (oldType === 'user') ctx.notes.push(`${collection}: old field type "user" on "${String(raw['name'])}" became a relation to users (${DEFAULT_USERS_ID})`);
  const field: Json = {
    hidden: false,
    name: raw['name'],
    presentable: raw['presentable'] === true,
    required: raw['required'] === true,
    system: raw['system'] === true,
    type: oldType === 'user' ? 'relation' : oldType,
    ...(converter ? converter(options) : options),
  };
  if (typeof raw['id'] === 'string' && raw['id'] !== '') field['id'] = raw['id'];
  return sortKeys(field);
}

/**
 * A `unique` flag becomes a single-column UNIQUE index, unless one is already
 * declared. Only exports from before v0.16 (no `indexes` key) need this: v0.16
 * turned every flag into an index and left the flag as a no-op, so in a newer
 * export a stale `true` is a constraint PocketBase never enforced, and adding
 * it could fail on existing duplicate data.
 */
function uniqueFieldIndexes(item: Json, collection: string, existing: string[], ctx: Context): string[] {
  const flagged = (item['schema'] as unknown[]).filter(isObject).filter((f) => f['unique'] === true);
  if (Array.isArray(item['indexes'])) {
    for (const field of flagged) {
      if (existing.some((sql) => isSingleColumnUnique(sql, String(field['name'])))) continue;
      ctx.notes.push(`${collection}: "unique" on field "${String(field['name'])}" ignored: since v0.16 PocketBase enforces only \`indexes\` and had no unique index for it; add one if you want it`);
    }
    return [];
  }
  const added: string[] = [];
  for (const field of flagged) {
    const column = String(field['name']);
    if ([...existing, ...added].some((sql) => isSingleColumnUnique(sql, column))) continue;
    const name = freeIndexName(ctx, [`idx_unique_${column}`, `idx_unique_${collection}_${column}`]);
    added.push(`CREATE UNIQUE INDEX \`${name}\` ON \`${collection}\` (\`${column}\`)`);
    ctx.notes.push(`${collection}: pre-0.23 "unique" on field "${column}" became index ${name}`);
  }
  return added;
}

// ---------------------------------------------------------------------------
// Default users collection

/**
 * Exports often leave out PocketBase's stock `users` collection while
 * relations still point at its fixed id; recreate it as a new install has it.
 */
function addDefaultUsersIfReferenced(collections: Json[], notes: string[]): void {
  if (collections.some((c) => c['id'] === DEFAULT_USERS_ID)) return;
  const referrers = collections.filter((c) => relationTargets(c).includes(DEFAULT_USERS_ID)).map((c) => String(c['name']));
  if (referrers.length === 0) return;
  if (collections.some((c) => String(c['name']).toLowerCase() === 'users')) {
    notes.push(`users: relations in ${referrers.join(', ')} point at ${DEFAULT_USERS_ID}, PocketBase's default users collection, but the export has another collection named "users"; fix those relations by hand`);
    return;
  }
  collections.unshift(defaultUsersCollection());
  notes.push(`users: added PocketBase's default users collection (${DEFAULT_USERS_ID}) because ${referrers.join(', ')} relate${referrers.length === 1 ? 's' : ''} to it and the export does not include it`);
}

function relationTargets(collection: Json): string[] {
  const fields = Array.isArray(collection['fields']) ? (collection['fields'] as unknown[]) : [];
  return fields.filter(isObject).filter((f) => f['type'] === 'relation').map((f) => String(f['collectionId']));
}

/** PocketBase's `users` collection on a new install (pocketbase-api.md §3.3). */
export function defaultUsersCollection(): Json {
  const ownerRule = 'id = @request.auth.id';
  return {
    id: DEFAULT_USERS_ID,
    listRule: ownerRule,
    viewRule: ownerRule,
    createRule: '',
    updateRule: ownerRule,
    deleteRule: ownerRule,
    name: 'users',
    type: 'auth',
    fields: [
      { autogeneratePattern: '', hidden: false, id: fieldIdFor('text', 'name'), max: 255, min: 0, name: 'name', pattern: '', presentable: false, primaryKey: false, required: false, system: false, type: 'text' },
      {
        hidden: false,
        id: fieldIdFor('file', 'avatar'),
        maxSelect: 1,
        maxSize: 0,
        mimeTypes: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'],
        name: 'avatar',
        presentable: false,
        protected: false,
        required: false,
        system: false,
        thumbs: null,
        type: 'file',
      },
      autodateField('created', false),
      autodateField('updated', true),
    ],
    indexes: [],
    system: false,
    authRule: '',
    manageRule: null,
    oauth2: { enabled: false, mappedFields: { id: '', name: 'name', username: '', avatarURL: 'avatar' } },
    passwordAuth: { enabled: true, identityFields: ['email'] },
  };
}

// ---------------------------------------------------------------------------
// Indexes

function usedIndexNames(items: Json[]): Set<string> {
  const names = new Set<string>();
  for (const item of items) {
    for (const sql of stringList(item['indexes']) ?? []) {
      const name = indexName(sql);
      if (name) names.add(name.toLowerCase());
    }
  }
  return names;
}

function indexName(sql: string): string | undefined {
  try {
    return parseIndex(sql).name;
  } catch {
    return undefined;
  }
}

/** The first candidate no other index uses, else the last one with a numeric suffix; reserves it. */
function freeIndexName(ctx: Context, candidates: string[]): string {
  let chosen = candidates.find((c) => !ctx.indexNames.has(c.toLowerCase()));
  const last = candidates[candidates.length - 1]!;
  for (let n = 2; chosen === undefined; n++) {
    if (!ctx.indexNames.has(`${last}_${n}`.toLowerCase())) chosen = `${last}_${n}`;
  }
  ctx.indexNames.add(chosen.toLowerCase());
  return chosen;
}

/** True for `CREATE UNIQUE INDEX ... (column)` with no WHERE clause: it already enforces field uniqueness. */
export function isSingleColumnUnique(sql: string, column: string): boolean {
  try {
    const index = parseIndex(sql);
    return index.unique && !index.where && index.columns.length === 1 && index.columns[0]!.name.toLowerCase() === column.toLowerCase();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Small value helpers (old exports use null for "not set")

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

/** select/file: null or 0 meant "single", which v0.23 spells 1. */
function atLeastOne(value: unknown): number {
  return Math.max(1, int(value));
}

/** relation: null (or 0) meant "unlimited". */
function relationMaxSelect(value: unknown): number {
  const max = int(value);
  return max > 0 ? max : UNLIMITED_RELATION;
}

/** v0.23 exports write field keys alphabetically; converted fields look the same. */
function sortKeys(object: Json): Json {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
