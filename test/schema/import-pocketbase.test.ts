import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { buildSchema, fieldIdFor, type Collection, type Schema } from '../../src/schema/index.js';
import {
  collectionFileText,
  convertPocketBaseExport,
  PocketBaseExportError,
  UNLIMITED_RELATION,
  viewOutputColumns,
} from '../../src/schema/import-pocketbase.js';

type Json = Record<string, unknown>;

/** Real PocketBase exports (see SOURCES.md there); shared between the engineers, not copied into the repo. */
/** Real PocketBase exports (copied from shared/corpus with their SOURCES.md). */
const CORPUS = new URL('../fixtures/pocketbase-schemas/', import.meta.url).pathname;
const corpusFiles = readdirSync(CORPUS).filter((f) => f.endsWith('.json')).sort();

/** Writes the converted collections as Galley would read them from `collections/`. */
function load(collections: Json[]): Schema {
  return buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: collectionFileText(c) })));
}

function convertAndLoad(data: unknown): Schema {
  return load(convertPocketBaseExport(data).collections);
}

function only(data: unknown): Json {
  const { collections } = convertPocketBaseExport(data);
  expect(collections).toHaveLength(1);
  return collections[0]!;
}

/** The converted `things` collection of `legacyBase`, whatever else the conversion added. */
function things(data: unknown): Json {
  const found = convertPocketBaseExport(data).collections.find((c) => c['name'] === 'things');
  if (!found) throw new Error('no "things" collection');
  return found;
}

function fieldsOf(collection: Json): Json[] {
  return collection['fields'] as Json[];
}

function field(collection: Json | Collection, name: string): Json {
  const found = (collection['fields'] as Json[]).find((f) => f['name'] === name);
  if (!found) throw new Error(`no field "${name}" in ${String(collection['name'])}`);
  return found;
}

/** A pre-0.23 base collection with one field. */
function legacyBase(schemaField: Json, extra: Json = {}): Json {
  return {
    id: 'oldbase00000001',
    name: 'things',
    type: 'base',
    system: false,
    schema: [{ system: false, id: 'fld00001', name: 'f', required: false, presentable: false, unique: false, options: {}, ...schemaField }],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    ...extra,
  };
}

const legacyAuthOptions = {
  allowEmailAuth: true,
  allowOAuth2Auth: false,
  allowUsernameAuth: true,
  exceptEmailDomains: null,
  manageRule: null,
  minPasswordLength: 8,
  onlyEmailDomains: null,
  onlyVerified: false,
  requireEmail: false,
};

/** A pre-0.23 auth collection with the given `options` overrides. */
function legacyAuth(options: Json = {}, extra: Json = {}): Json {
  return {
    id: 'oldauth00000001',
    name: 'members',
    type: 'auth',
    system: false,
    schema: [{ system: false, id: 'fld00002', name: 'nick', type: 'text', required: false, presentable: false, unique: false, options: { min: null, max: null, pattern: '' } }],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: '',
    updateRule: null,
    deleteRule: null,
    options: { ...legacyAuthOptions, ...options },
    ...extra,
  };
}

describe('convertPocketBaseExport: the corpus of real exports', () => {
  for (const file of corpusFiles) {
    it(`${file} converts into collection files Galley accepts`, () => {
      const data = JSON.parse(readFileSync(join(CORPUS, file), 'utf8')) as Json[];
      const { collections } = convertPocketBaseExport(data);
      // Throws InvalidCollectionsError whose message lists every problem, one per line.
      const schema = load(collections);
      const imported = data.filter((c) => c['system'] !== true).length;
      expect(collections.length - imported).toBeLessThanOrEqual(1); // at most the default users collection
      for (const c of collections) {
        expect(c).not.toHaveProperty('created');
        expect(c).not.toHaveProperty('updated');
        expect(c).not.toHaveProperty('schema');
        expect(c).not.toHaveProperty('options');
        expect(JSON.parse(collectionFileText(c))).toEqual(c);
      }
      // Ids carried by the export survive: relations depend on them.
      for (const original of data.filter((c) => c['system'] !== true && typeof c['id'] === 'string')) {
        expect(schema.byId.get(original['id'] as string)?.name).toBe(original['name']);
      }
    });
  }

  it.runIf(corpusFiles.includes('hookenz__hcshow__schema_pb_schema.json'))('adds the default users collection the hookenz export relates to', () => {
    const data: unknown = JSON.parse(readFileSync(join(CORPUS, 'hookenz__hcshow__schema_pb_schema.json'), 'utf8'));
    const { collections, notes } = convertPocketBaseExport(data);
    expect(collections[0]).toMatchObject({ id: '_pb_users_auth_', name: 'users', type: 'auth' });
    expect(notes.some((n) => n.startsWith('users: added PocketBase\'s default users collection'))).toBe(true);
  });
});

describe('convertPocketBaseExport: hand-written exports of what real apps do (test/fixtures/pocketbase-exports)', () => {
  const file = new URL('../fixtures/pocketbase-exports/views-and-app-system-collections.json', import.meta.url).pathname;
  const data = JSON.parse(readFileSync(file, 'utf8')) as Json[];

  it('keeps an app collection flagged "system", skips only PocketBase\'s own', () => {
    const { collections, notes } = convertPocketBaseExport(data);
    expect(collections.map((c) => c['name'])).toEqual(data.filter((c) => !['_otps', '_mfas'].includes(String(c['name']))).map((c) => c['name']));
    expect(collections.find((c) => c['name'] === 'settings')).toMatchObject({ system: true });
    expect(notes).toEqual(['_otps: skipped (built into Galley as PocketBase has it)', '_mfas: skipped (built into Galley as PocketBase has it)']);
  });

  it('loads: views reading views, window functions, CTEs, strftime, UNION ALL, comments', () => {
    const schema = load(convertPocketBaseExport(data).collections);
    expect(schema.collections.filter((c) => c.type === 'view').map((c) => c.name)).toHaveLength(7);
    expect(schema.byName.get('settings')).toMatchObject({ system: true });
  });

  it('a system-flagged file cannot stand in for a built-in collection', () => {
    const otps = { ...data.find((c) => c['name'] === '_otps')!, id: 'pbc_9999999999' };
    expect(() => load([otps])).toThrow('/name: "_otps" is built into Galley');
  });
});

describe('convertPocketBaseExport: input shape', () => {
  const bad: [string, unknown, RegExp][] = [
    ['a number', 42, /expected a JSON array/],
    ['a string', 'collections', /expected a JSON array/],
    ['null', null, /expected a JSON array/],
    ['an object without collections', { name: 'posts' }, /expected a JSON array/],
    ['collections that is not an array', { collections: { name: 'posts' } }, /expected a JSON array/],
    ['an item that is a number', [{ name: 'a', fields: [] }, 3], /item 1 .*not a JSON object/],
    ['an item that is null', [null], /item 0 .*not a JSON object/],
    ['an item that is an array', [[{ name: 'a' }]], /item 0 .*not a JSON object/],
    ['an item without name', [{ type: 'base', fields: [] }], /item 0 .*no "name"/],
    ['an item with an empty name', [{ name: '', fields: [] }], /item 0 .*no "name"/],
    ['an item whose name is not a string', [{ name: 7, fields: [] }], /item 0 .*no "name"/],
  ];
  it.each(bad)('rejects %s', (_label, input, message) => {
    expect(() => convertPocketBaseExport(input)).toThrow(PocketBaseExportError);
    expect(() => convertPocketBaseExport(input)).toThrow(message);
  });

  it('accepts the {collections: [...]} body of the import endpoint', () => {
    const { collections } = convertPocketBaseExport({ collections: [{ name: 'posts', type: 'base', fields: [] }], deleteMissing: false });
    expect(collections).toEqual([{ name: 'posts', type: 'base', fields: [] }]);
  });

  it('accepts an empty export', () => {
    expect(convertPocketBaseExport([])).toEqual({ collections: [], notes: [] });
  });

  it('does not modify its input and is deterministic', () => {
    const input = [legacyAuth({ manageRule: '@request.data.x = 1' }), legacyBase({ name: 'title', type: 'text', unique: true }, { indexes: undefined })];
    const copy = structuredClone(input);
    const first = convertPocketBaseExport(input);
    expect(input).toEqual(copy);
    expect(convertPocketBaseExport(input)).toEqual(first);
  });

  it('converts a mix of both generations in one export', () => {
    const current = { id: 'pbc_1', name: 'posts', type: 'base', fields: [{ name: 'author', type: 'relation', collectionId: 'oldauth00000001', maxSelect: 1 }] };
    const schema = convertAndLoad([legacyAuth(), current]);
    expect(schema.collections.filter((c) => !c.system).map((c) => c.name).sort()).toEqual(['members', 'posts']);
  });
});

describe('convertPocketBaseExport: v0.23+ collections', () => {
  const current = {
    id: 'pbc_123',
    listRule: '@request.auth.id != ""',
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    name: 'accounts',
    type: 'auth',
    fields: [{ id: 'text1', name: 'nick', type: 'text', max: 10 }],
    indexes: ['CREATE INDEX `idx_nick` ON `accounts` (`nick`)'],
    created: '2024-11-01 10:00:00.000Z',
    updated: '2024-11-02 10:00:00.000Z',
    system: false,
    oauth2: { enabled: false, mappedFields: { id: '', name: '', username: '', avatarURL: '' }, providers: [{ name: 'google', clientId: 'x' }] },
    passwordAuth: { enabled: true, identityFields: ['email'] },
  };

  it('pass through minus created/updated and oauth2.providers, keeping ids and key order', () => {
    const { collections, notes } = convertPocketBaseExport([current]);
    const { created: _c, updated: _u, ...rest } = current;
    expect(collections[0]).toEqual({ ...rest, oauth2: { enabled: false, mappedFields: current.oauth2.mappedFields } });
    expect(Object.keys(collections[0]!)).toEqual(Object.keys(rest));
    expect(notes).toEqual(['accounts: oauth2.providers dropped (client secrets are not part of an export; configure providers again)']);
  });

  it('drop an empty providers list without a note', () => {
    const { notes } = convertPocketBaseExport([{ ...current, oauth2: { enabled: false, providers: [] } }]);
    expect(notes).toEqual([]);
  });

  it('keep their rules as written', () => {
    expect(only([{ ...current, listRule: '@request.body.x = 1' }])['listRule']).toBe('@request.body.x = 1');
  });
});

describe('convertPocketBaseExport: system collections', () => {
  it.each([
    ['_superusers', '_superusers: skipped (built into Galley)'],
    ['_authOrigins', '_authOrigins: skipped (built into Galley as PocketBase has it)'],
    ['_externalAuths', '_externalAuths: skipped (built into Galley as PocketBase has it)'],
    ['_mfas', '_mfas: skipped (built into Galley as PocketBase has it)'],
    ['_otps', '_otps: skipped (built into Galley as PocketBase has it)'],
  ])('skips %s with a note', (name, note) => {
    const result = convertPocketBaseExport([{ name, type: name === '_superusers' ? 'auth' : 'base', system: true, fields: [] }]);
    expect(result).toEqual({ collections: [], notes: [note] });
  });
});

describe('convertPocketBaseExport: pre-0.23 fields', () => {
  const cases: [string, Json, Json][] = [
    ['text min/max null become 0', { type: 'text', options: { min: null, max: null, pattern: '' } }, { type: 'text', min: 0, max: 0, pattern: '', autogeneratePattern: '' }],
    ['text keeps set bounds and pattern', { type: 'text', options: { min: 2, max: 64, pattern: '^a' } }, { min: 2, max: 64, pattern: '^a' }],
    ['number noDecimal becomes onlyInt', { type: 'number', options: { min: null, max: 5, noDecimal: true } }, { type: 'number', min: null, max: 5, onlyInt: true }],
    ['number without noDecimal is not onlyInt', { type: 'number', options: { min: 1, max: null } }, { min: 1, max: null, onlyInt: false }],
    ['editor convertUrls becomes convertURLs', { type: 'editor', options: { convertUrls: true } }, { type: 'editor', convertURLs: true }],
    ['editor without options', { type: 'editor', options: {} }, { convertURLs: false }],
    ['relation maxSelect null becomes unlimited', { type: 'relation', options: { collectionId: 'oldbase00000001', cascadeDelete: false, minSelect: null, maxSelect: null, displayFields: null } }, { type: 'relation', collectionId: 'oldbase00000001', maxSelect: UNLIMITED_RELATION, minSelect: 0, cascadeDelete: false }],
    ['relation keeps a set maxSelect and cascadeDelete', { type: 'relation', options: { collectionId: 'oldbase00000001', cascadeDelete: true, minSelect: 1, maxSelect: 3, displayFields: ['name'] } }, { maxSelect: 3, minSelect: 1, cascadeDelete: true }],
    ['select maxSelect null becomes 1', { type: 'select', options: { maxSelect: null, values: ['a', 'b'] } }, { type: 'select', maxSelect: 1, values: ['a', 'b'] }],
    ['select keeps a multiple maxSelect', { type: 'select', options: { maxSelect: 2, values: ['a', 'b'] } }, { maxSelect: 2 }],
    ['file maxSelect/maxSize null become 1/0', { type: 'file', options: { maxSelect: null, maxSize: null, mimeTypes: null, thumbs: ['100x100'], protected: true } }, { type: 'file', maxSelect: 1, maxSize: 0, mimeTypes: null, thumbs: ['100x100'], protected: true }],
    ['json maxSize defaults to 0', { type: 'json', options: {} }, { type: 'json', maxSize: 0 }],
    ['json keeps maxSize', { type: 'json', options: { maxSize: 2000000 } }, { maxSize: 2000000 }],
    ['date bounds null become ""', { type: 'date', options: { min: null, max: '2030-01-01 00:00:00.000Z' } }, { type: 'date', min: '', max: '2030-01-01 00:00:00.000Z' }],
    ['email domains are hoisted', { type: 'email', options: { exceptDomains: null, onlyDomains: ['example.com'] } }, { type: 'email', exceptDomains: null, onlyDomains: ['example.com'] }],
    ['url domains are hoisted', { type: 'url', options: { exceptDomains: ['bad.com'], onlyDomains: null } }, { type: 'url', exceptDomains: ['bad.com'], onlyDomains: null }],
    ['bool has no options', { type: 'bool', options: {} }, { type: 'bool' }],
    ['old type user becomes a relation to the users collection', { type: 'user', options: { maxSelect: 1, cascadeDelete: true } }, { type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1, cascadeDelete: true, minSelect: 0 }],
    ['common keys default when missing (old exports have no presentable)', { type: 'bool', presentable: undefined, options: {} }, { presentable: false, hidden: false, required: false, system: false }],
    ['common keys are kept', { type: 'bool', required: true, presentable: true, options: {} }, { required: true, presentable: true, id: 'fld00001', name: 'f' }],
  ];

  it.each(cases)('%s', (_label, schemaField, expected) => {
    const converted = field(things([legacyBase(schemaField)]), 'f');
    expect(converted).toMatchObject(expected);
  });

  it.each(cases)('leaves no key Galley rejects: %s', (_label, schemaField) => {
    const converted = field(things([legacyBase(schemaField)]), 'f');
    for (const key of ['options', 'unique', 'displayFields', 'noDecimal', 'convertUrls']) expect(converted).not.toHaveProperty(key);
  });

  it('writes field keys in alphabetical order, as v0.23 exports do', () => {
    const converted = field(only([legacyBase({ type: 'text', options: { min: null, max: null, pattern: '' } })]), 'f');
    const keys = Object.keys(converted);
    expect(keys).toEqual([...keys].sort());
  });

  it('converted fields of every type load in Galley', () => {
    const target = legacyBase({ name: 'title', type: 'text', options: {} });
    const schema = convertAndLoad([target, ...cases.map(([, f], i) => legacyBase(f, { id: `oldbase_c${i}`, name: `c${i}` }))]);
    expect(schema.collections.filter((c) => !c.system)).toHaveLength(cases.length + 2); // + target, default users (from the "user" field)
  });

  it('notes an old "user" field', () => {
    const { notes } = convertPocketBaseExport([legacyBase({ name: 'owner', type: 'user', options: { maxSelect: 1 } })]);
    expect(notes).toContain('things: old field type "user" on "owner" became a relation to users (_pb_users_auth_)');
  });

  it('copies the options of an unknown type and notes it', () => {
    const { collections, notes } = convertPocketBaseExport([legacyBase({ type: 'mystery', options: { a: 1 } })]);
    expect(field(collections[0]!, 'f')).toMatchObject({ type: 'mystery', a: 1 });
    expect(notes).toEqual(['things: field "f" has unknown type "mystery"; its options were copied as they are']);
  });
});

describe('convertPocketBaseExport: pre-0.23 collections', () => {
  it('puts keys in PocketBase order and drops schema/options', () => {
    const converted = only([legacyBase({ type: 'bool' })]);
    expect(Object.keys(converted)).toEqual(['id', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'name', 'type', 'fields', 'indexes', 'system']);
  });

  it('adds created/updated autodate fields to base collections', () => {
    const fields = fieldsOf(only([legacyBase({ type: 'bool' })]));
    expect(fields.slice(-2)).toEqual([
      { hidden: false, id: fieldIdFor('autodate', 'created'), name: 'created', onCreate: true, onUpdate: false, presentable: false, system: false, type: 'autodate' },
      { hidden: false, id: fieldIdFor('autodate', 'updated'), name: 'updated', onCreate: true, onUpdate: true, presentable: false, system: false, type: 'autodate' },
    ]);
  });

  it('adds created/updated autodate fields to auth collections', () => {
    const names = fieldsOf(only([legacyAuth()])).map((f) => f['name']);
    expect(names.slice(-2)).toEqual(['created', 'updated']);
  });

  it('defaults a missing type to base and missing indexes to []', () => {
    const converted = only([{ name: 'ancient', schema: [] }]);
    expect(converted).toMatchObject({ type: 'base', indexes: [], listRule: null, system: false });
    expect(converted).not.toHaveProperty('id');
  });

  const rules: [string, string | null, string | null][] = [
    ['@request.data. becomes @request.body.', '@request.auth.id = @request.data.user', '@request.auth.id = @request.body.user'],
    ['every occurrence is renamed', '@request.data.a = 1 && @request.data.b:isset = true', '@request.body.a = 1 && @request.body.b:isset = true'],
    ['other rules are unchanged', '@request.auth.id != ""', '@request.auth.id != ""'],
    ['a longer identifier is not touched', '@request.dataset = 1', '@request.dataset = 1'],
    ['null stays null', null, null],
    ['"" stays ""', '', ''],
  ];
  it.each(rules)('rules: %s', (_label, rule, expected) => {
    const converted = only([legacyBase({ type: 'bool' }, { listRule: rule, viewRule: rule, createRule: rule, updateRule: rule, deleteRule: rule })]);
    for (const key of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule']) expect(converted[key]).toBe(expected);
  });

  it('notes which rules were renamed', () => {
    const { notes } = convertPocketBaseExport([legacyBase({ type: 'bool' }, { createRule: '@request.data.a = 1' })]);
    expect(notes).toEqual(['things: "@request.data" became "@request.body" in createRule']);
  });
});

describe('convertPocketBaseExport: pre-0.23 unique fields', () => {
  const titleField = { name: 'title', type: 'text', unique: true, options: { min: null, max: null, pattern: '' } };

  it('an export from before v0.16 (no indexes key) gets a unique index per flagged field', () => {
    const { collections, notes } = convertPocketBaseExport([legacyBase(titleField, { indexes: undefined })]);
    expect(collections[0]!['indexes']).toEqual(['CREATE UNIQUE INDEX `idx_unique_title` ON `things` (`title`)']);
    expect(notes).toEqual(['things: pre-0.23 "unique" on field "title" became index idx_unique_title']);
    convertAndLoad([legacyBase(titleField, { indexes: undefined })]);
  });

  it('does not duplicate an equivalent unique index', () => {
    const existing = 'CREATE UNIQUE INDEX "uq" ON "things" ("TITLE")';
    const { collections } = convertPocketBaseExport([{ ...legacyBase(titleField), indexes: undefined, schema: [titleField] }]);
    expect(collections[0]!['indexes']).toHaveLength(1);
    const withExisting = convertPocketBaseExport([legacyBase(titleField, { indexes: [existing] })]);
    expect(withExisting.collections[0]!['indexes']).toEqual([existing]);
  });

  it('picks another name when idx_unique_<field> is taken anywhere in the export', () => {
    const other = legacyBase(titleField, { id: 'oldbase00000002', name: 'others', indexes: undefined });
    const { collections } = convertPocketBaseExport([legacyBase(titleField, { indexes: undefined }), other]);
    expect(collections.map((c) => c['indexes'])).toEqual([
      ['CREATE UNIQUE INDEX `idx_unique_title` ON `things` (`title`)'],
      ['CREATE UNIQUE INDEX `idx_unique_others_title` ON `others` (`title`)'],
    ]);
    convertAndLoad([legacyBase(titleField, { indexes: undefined }), other]);
  });

  it('a v0.16–v0.22 export (indexes key present) ignores the no-op flag with a note', () => {
    const { collections, notes } = convertPocketBaseExport([legacyBase(titleField, { indexes: [] })]);
    expect(collections[0]!['indexes']).toEqual([]);
    expect(notes).toEqual([expect.stringMatching(/^things: "unique" on field "title" ignored: since v0\.16/)]);
  });
});

describe('convertPocketBaseExport: pre-0.23 auth collections', () => {
  const identity: [string, Json, Json][] = [
    ['email and username', { allowEmailAuth: true, allowUsernameAuth: true }, { enabled: true, identityFields: ['email', 'username'] }],
    ['email only', { allowEmailAuth: true, allowUsernameAuth: false }, { enabled: true, identityFields: ['email'] }],
    ['username only', { allowEmailAuth: false, allowUsernameAuth: true }, { enabled: true, identityFields: ['username'] }],
    ['neither', { allowEmailAuth: false, allowUsernameAuth: false }, { enabled: false, identityFields: [] }],
  ];
  it.each(identity)('passwordAuth from allowEmailAuth/allowUsernameAuth: %s', (_label, options, expected) => {
    expect(only([legacyAuth(options)])['passwordAuth']).toEqual(expected);
  });

  it.each([
    [true, 'verified=true'],
    [false, ''],
  ])('onlyVerified %s gives authRule %j', (onlyVerified, authRule) => {
    expect(only([legacyAuth({ onlyVerified })])['authRule']).toBe(authRule);
  });

  it.each([
    ['a rule moves to the top level', '@request.auth.id != ""', '@request.auth.id != ""'],
    ['@request.data is renamed', '@request.data.role = "x"', '@request.body.role = "x"'],
    ['"" becomes null (as PocketBase migrates it)', '', null],
    ['null stays null', null, null],
  ])('manageRule: %s', (_label, manageRule, expected) => {
    expect(only([legacyAuth({ manageRule })])['manageRule']).toBe(expected);
  });

  it('writes email and password entries that Galley merges into its system fields', () => {
    const converted = only([legacyAuth({ requireEmail: true, onlyEmailDomains: ['example.com'], minPasswordLength: 12 })]);
    expect(fieldsOf(converted).slice(0, 2)).toEqual([
      { name: 'password', type: 'password', hidden: true, required: true, min: 12 },
      { name: 'email', type: 'email', required: true, exceptDomains: null, onlyDomains: ['example.com'] },
    ]);
    const members = convertAndLoad([legacyAuth({ requireEmail: true, onlyEmailDomains: ['example.com'], minPasswordLength: 12 })]).byName.get('members')!;
    expect(field(members, 'password')).toMatchObject({ system: true, hidden: true, required: true, min: 12 });
    expect(field(members, 'email')).toMatchObject({ system: true, required: true, onlyDomains: ['example.com'], exceptDomains: null });
    expect(members.fields.map((f) => f.name)).toEqual(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'username', 'nick', 'created', 'updated']);
  });

  it('moves exceptEmailDomains onto the email field and keeps email optional unless requireEmail', () => {
    const email = field(only([legacyAuth({ exceptEmailDomains: ['spam.com'] })]), 'email');
    expect(email).toMatchObject({ required: false, exceptDomains: ['spam.com'], onlyDomains: null });
  });

  it('adds the username text field and its unique NOCASE index', () => {
    const converted = only([legacyAuth()]);
    expect(field(converted, 'username')).toEqual({
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
    });
    expect(converted['indexes']).toEqual(['CREATE UNIQUE INDEX `_oldauth00000001_username_idx` ON `members` (`username` COLLATE NOCASE)']);
    expect(new RegExp(field(converted, 'username')['pattern'] as string).test('john.doe-1')).toBe(true);
  });

  it('leaves oauth2 disabled and notes when OAuth2 was allowed', () => {
    const { collections, notes } = convertPocketBaseExport([legacyAuth({ allowOAuth2Auth: true })]);
    expect(collections[0]!['oauth2']).toEqual({ enabled: false, mappedFields: { username: 'username' } });
    expect(notes).toEqual([expect.stringMatching(/^members: OAuth2 sign-in was allowed/)]);
  });

  it('loads in Galley with the implicit system fields and indexes', () => {
    const members = convertAndLoad([legacyAuth()]).byName.get('members')!;
    expect(members.indexes).toHaveLength(3);
    expect(members.passwordAuth).toEqual({ enabled: true, identityFields: ['email', 'username'] });
  });
});

describe('convertPocketBaseExport: pre-0.23 view collections', () => {
  const view = (query: string, schema: Json[]): Json => ({
    id: 'oldview00000001',
    name: 'summary',
    type: 'view',
    system: false,
    schema,
    indexes: [],
    listRule: '',
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: { query },
  });
  const nameField = { system: false, id: 'vf000001', name: 'title', type: 'text', required: false, presentable: false, unique: false, options: { min: null, max: null, pattern: '' } };

  it('moves options.query to viewQuery and converts the listed fields', () => {
    const converted = only([view('SELECT id, title FROM things', [nameField])]);
    expect(converted['viewQuery']).toBe('SELECT id, title FROM things');
    expect(fieldsOf(converted)).toEqual([{ autogeneratePattern: '', hidden: false, id: 'vf000001', max: 0, min: 0, name: 'title', pattern: '', presentable: false, required: false, system: false, type: 'text' }]);
    convertAndLoad([legacyBase({ name: 'title', type: 'text' }), view('SELECT id, title FROM things', [nameField])]);
  });

  it('adds created/updated only when the query selects them', () => {
    const converted = only([view('SELECT t.id, t.title, t.created AS created FROM things t', [nameField])]);
    expect(fieldsOf(converted).map((f) => f['name'])).toEqual(['title', 'created']);
  });

  it.each([
    ['SELECT id, created, updated FROM t', ['id', 'created', 'updated']],
    ['select b.id as id, b.created AS Created, count(*) as n from t b', ['id', 'created', 'n']],
    ['SELECT * FROM t', []],
    ['not sql at all', []],
  ])('viewOutputColumns(%j)', (sql, expected) => {
    expect([...viewOutputColumns(sql)].filter((c) => c !== '*')).toEqual(expected);
  });
});

describe('convertPocketBaseExport: default users collection', () => {
  const relatesToUsers = { name: 'posts', type: 'base', fields: [{ name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 }] };

  it('is added when a relation targets _pb_users_auth_ and the export lacks it', () => {
    const { collections, notes } = convertPocketBaseExport([relatesToUsers]);
    expect(collections.map((c) => c['name'])).toEqual(['users', 'posts']);
    expect(collections[0]).toMatchObject({
      id: '_pb_users_auth_',
      type: 'auth',
      listRule: 'id = @request.auth.id',
      viewRule: 'id = @request.auth.id',
      createRule: '',
      updateRule: 'id = @request.auth.id',
      deleteRule: 'id = @request.auth.id',
    });
    expect(fieldsOf(collections[0]!).map((f) => [f['name'], f['type']])).toEqual([
      ['name', 'text'],
      ['avatar', 'file'],
      ['created', 'autodate'],
      ['updated', 'autodate'],
    ]);
    expect(field(collections[0]!, 'name')['max']).toBe(255);
    expect(field(collections[0]!, 'avatar')).toMatchObject({ maxSelect: 1, mimeTypes: ['image/jpeg', 'image/png', 'image/svg+xml', 'image/gif', 'image/webp'] });
    expect(notes).toEqual(["users: added PocketBase's default users collection (_pb_users_auth_) because posts relates to it and the export does not include it"]);
    const users = load(collections).byId.get('_pb_users_auth_')!;
    expect(users.fields.map((f) => f.name)).toEqual(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'name', 'avatar', 'created', 'updated']);
  });

  it('is added for a converted pre-0.23 relation too', () => {
    const old = legacyBase({ type: 'relation', options: { collectionId: '_pb_users_auth_', maxSelect: 1 } });
    expect(convertPocketBaseExport([old]).collections.map((c) => c['name'])).toEqual(['users', 'things']);
  });

  it('is not added when the export has it', () => {
    const users = { id: '_pb_users_auth_', name: 'users', type: 'auth', fields: [] };
    expect(convertPocketBaseExport([users, relatesToUsers]).collections).toHaveLength(2);
  });

  it('is not added when nothing relates to it', () => {
    expect(convertPocketBaseExport([{ name: 'posts', type: 'base', fields: [] }]).collections).toHaveLength(1);
  });

  it('is not added over another collection named users; a note says so', () => {
    const otherUsers = { id: 'pbc_9', name: 'users', type: 'base', fields: [] };
    const { collections, notes } = convertPocketBaseExport([otherUsers, relatesToUsers]);
    expect(collections).toHaveLength(2);
    expect(notes).toEqual([expect.stringMatching(/^users: relations in posts point at _pb_users_auth_/)]);
  });
});

describe('collectionFileText', () => {
  it('is 2-space JSON with a trailing newline and no $schema', () => {
    const text = collectionFileText({ name: 'posts', fields: [{ name: 'a', type: 'bool' }] });
    expect(text).toBe('{\n  "name": "posts",\n  "fields": [\n    {\n      "name": "a",\n      "type": "bool"\n    }\n  ]\n}\n');
    expect(text).not.toContain('$schema');
  });
});
