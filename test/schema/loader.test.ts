import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidCollectionsError, formatProblem } from '../../src/errors/index.js';
import { buildSchema, collectionIdFor, crc32, fieldIdFor, findCollection, loadCollections, type Collection, type Field } from '../../src/schema/index.js';

const REPO_COLLECTIONS = new URL('../../collections/', import.meta.url).pathname;

const load = (...collections: Record<string, unknown>[]) =>
  buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: JSON.stringify(c) })));
const fieldOf = (c: Collection, name: string): Field => {
  const f = c.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${c.name}`);
  return f;
};
const get = (schema: ReturnType<typeof load>, name: string): Collection => {
  const c = findCollection(schema, name);
  if (!c) throw new Error(`no collection ${name}`);
  return c;
};

describe('deterministic ids', () => {
  it('computes PocketBase ids from type + name (values from a real PocketBase export)', () => {
    expect(crc32('')).toBe(0);
    expect(crc32('123456789')).toBe(0xcbf43926); // the CRC-32/IEEE check value
    expect(collectionIdFor('auth', '_superusers')).toBe('pbc_3142635823');
    expect(collectionIdFor('base', 'posts')).toBe('pbc_1125843985');
    expect(fieldIdFor('text', 'id')).toBe('text3208210256');
    expect(fieldIdFor('relation', 'author')).toBe('relation3182418120');
    expect(fieldIdFor('autodate', 'created')).toBe('autodate2990389176');
  });

  it('gives omitted collection and field ids those values, and keeps written ones', () => {
    const schema = load(
      { name: 'posts', fields: [{ name: 'created', type: 'autodate', onCreate: true }] },
      { id: 'custom_id', name: 'tags', fields: [{ id: 'myfield', name: 'label', type: 'text' }] },
    );
    const posts = get(schema, 'posts');
    expect(posts.id).toBe('pbc_1125843985');
    expect(fieldOf(posts, 'id').id).toBe('text3208210256');
    expect(fieldOf(posts, 'created').id).toBe('autodate2990389176');
    const tags = get(schema, 'tags');
    expect(tags.id).toBe('custom_id');
    expect(fieldOf(tags, 'label').id).toBe('myfield');
    expect(schema.byId.get('custom_id')).toBe(tags);
  });
});

describe('normalization', () => {
  it('adds the implicit id field first, with PocketBase options', () => {
    const posts = get(load({ name: 'posts', fields: [{ name: 'title', type: 'text' }] }), 'posts');
    expect(posts.fields.map((f) => f.name)).toEqual(['id', 'title']);
    expect(posts.fields[0]).toEqual({
      id: 'text3208210256',
      name: 'id',
      type: 'text',
      system: true,
      hidden: false,
      presentable: false,
      required: true,
      primaryKey: true,
      min: 15,
      max: 15,
      pattern: '^[a-z0-9]+$',
      autogeneratePattern: '[a-z0-9]{15}',
    });
  });

  it('fills collection and field defaults', () => {
    const posts = get(
      load({
        name: 'posts',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'status', type: 'select', values: ['a', 'b'] },
          { name: 'views', type: 'number' },
          { name: 'created', type: 'autodate', onCreate: true },
        ],
      }),
      'posts',
    );
    expect(posts).toMatchObject({ type: 'base', system: false, indexes: [], listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null });
    expect(fieldOf(posts, 'title')).toEqual({
      id: 'text724990059', name: 'title', type: 'text', system: false, hidden: false, presentable: false, required: false, help: '',
      min: 0, max: 0, pattern: '', autogeneratePattern: '', primaryKey: false,
    });
    expect(fieldOf(posts, 'status')).toMatchObject({ maxSelect: 1, values: ['a', 'b'], required: false });
    expect(fieldOf(posts, 'views')).toMatchObject({ min: null, max: null, onlyInt: false });
    expect(fieldOf(posts, 'created')).toMatchObject({ onCreate: true, onUpdate: false });
    expect(fieldOf(posts, 'created')).not.toHaveProperty('required');
  });

  it('adds the auth system fields and their unique indexes', () => {
    const users = get(load({ name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text' }] }), 'users');
    expect(users.id).toBe(collectionIdFor('auth', 'users'));
    expect(users.fields.map((f) => [f.name, f.type, f.system])).toEqual([
      ['id', 'text', true],
      ['password', 'password', true],
      ['tokenKey', 'text', true],
      ['email', 'email', true],
      ['emailVisibility', 'bool', true],
      ['verified', 'bool', true],
      ['name', 'text', false],
    ]);
    expect(fieldOf(users, 'password')).toMatchObject({ hidden: true, required: true, min: 8 });
    expect(fieldOf(users, 'tokenKey')).toMatchObject({ hidden: true, required: true });
    expect(users.indexes).toEqual([
      `CREATE UNIQUE INDEX \`idx_tokenKey_${users.id}\` ON \`users\` (\`tokenKey\`)`,
      `CREATE UNIQUE INDEX \`idx_email_${users.id}\` ON \`users\` (\`email\`) WHERE \`email\` != ''`,
    ]);
    expect(users).toMatchObject({ authRule: '', manageRule: null, passwordAuth: { enabled: true, identityFields: ['email'] }, authToken: { duration: 432000 } });
  });

  it('lets a file tune a system field without losing what the system field forces', () => {
    const users = get(load({ name: 'users', type: 'auth', fields: [{ name: 'password', type: 'password', min: 12 }] }), 'users');
    expect(users.fields.filter((f) => f.name === 'password')).toHaveLength(1);
    expect(fieldOf(users, 'password')).toMatchObject({ id: 'password901924565', min: 12, hidden: true, required: true, system: true });
    expect(users.fields[1]!.name).toBe('password');
  });

  it('does not add an equivalent auth index twice', () => {
    const users = get(load({ name: 'users', type: 'auth', indexes: ['CREATE UNIQUE INDEX idx_mail ON users (email)'] }), 'users');
    expect(users.indexes.filter((s) => s.includes('email'))).toEqual(['CREATE UNIQUE INDEX idx_mail ON users (email)']);
    expect(users.indexes).toHaveLength(2);
  });

  it('resolves a relation given by collection name to the collectionId, case-insensitively', () => {
    const schema = load(
      { name: 'users', type: 'auth' },
      { name: 'posts', fields: [{ name: 'author', type: 'relation', collection: 'Users' }, { name: 'editor', type: 'relation', collectionId: collectionIdFor('auth', 'users') }] },
    );
    const posts = get(schema, 'posts');
    expect(fieldOf(posts, 'author')).toMatchObject({ collectionId: 'pbc_1736455494', maxSelect: 1, minSelect: 0, cascadeDelete: false });
    expect(fieldOf(posts, 'author')).not.toHaveProperty('collection');
    expect(fieldOf(posts, 'editor').collectionId).toBe('pbc_1736455494');
  });

  it('accepts previousName and $schema, and drops $schema, created and updated', () => {
    const posts = get(
      load({ $schema: '../src/schema/collection-file.schema.json', created: '2024-01-01 00:00:00.000Z', name: 'posts', fields: [{ name: 'headline', type: 'text', previousName: 'title' }] }),
      'posts',
    );
    expect(fieldOf(posts, 'headline').previousName).toBe('title');
    expect(posts).not.toHaveProperty('$schema');
    expect(posts).not.toHaveProperty('created');
  });

  it('accepts a file saved with a byte order mark', () => {
    const schema = buildSchema([{ file: 'collections/posts.json', text: '\uFEFF{"name": "posts"}' }]);
    expect(get(schema, 'posts').id).toBe('pbc_1125843985');
  });

  it('always has the built-in _superusers and PocketBase\'s other system collections', () => {
    const schema = buildSchema([]);
    expect(schema.collections.map((c) => c.name)).toEqual(['_superusers', '_mfas', '_otps', '_externalAuths', '_authOrigins']);
    const su = get(schema, '_superusers');
    expect(su).toMatchObject({ id: 'pbc_3142635823', type: 'auth', system: true, authToken: { duration: 86400 } });
    expect(su.fields.map((f) => f.name)).toEqual(['id', 'password', 'tokenKey', 'email', 'emailVisibility', 'verified', 'created', 'updated']);
    expect(findCollection(schema, 'pbc_3142635823')).toBe(su);
    expect(schema.sources.get('pbc_3142635823')).toEqual({ file: '(built-in)' });
  });

  it('warns about keys PocketBase knows but Galley does not implement yet', () => {
    const schema = load(
      { name: 'users', type: 'auth', oauth2: { enabled: true } },
      { name: 'posts', fields: [{ name: 'title', type: 'text' }, { name: 'cover', type: 'file' }] },
    );
    expect(schema.warnings).toEqual([
      'collections/users.json: /oauth2: OAuth2 sign-in is not implemented yet; ignored',
    ]);
    expect(load({ name: 'posts' }).warnings).toEqual([]);
  });

  it('has a checksum that does not depend on key order or whitespace, and changes with the content', () => {
    const a = buildSchema([{ file: 'collections/posts.json', text: '{"name":"posts","listRule":"","fields":[{"name":"t","type":"text","max":5}]}' }]);
    const b = buildSchema([{ file: 'collections/posts.json', text: '{\n "fields": [ { "max": 5, "type": "text", "name": "t" } ],\n "listRule": "",\n "name": "posts"\n}' }]);
    const c = buildSchema([{ file: 'collections/posts.json', text: '{"name":"posts","listRule":"","fields":[{"name":"t","type":"text","max":6}]}' }]);
    expect(a.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(b.checksum).toBe(a.checksum);
    expect(c.checksum).not.toBe(a.checksum);
  });
});

describe('loadCollections', () => {
  it("loads the repo's collections/ folder", async () => {
    const schema = await loadCollections(REPO_COLLECTIONS);
    expect(schema.collections.map((c) => c.name)).toEqual([...['_superusers', '_mfas', '_otps', '_externalAuths', '_authOrigins'], 'comments', 'moderators', 'posts', 'tags', 'users']);
    expect(schema.warnings).toEqual([]);
    const comments = get(schema, 'comments');
    expect(fieldOf(comments, 'post').collectionId).toBe(get(schema, 'posts').id);
    expect(fieldOf(comments, 'author').collectionId).toBe('pbc_1736455494');
    expect(schema.sources.get(get(schema, 'posts').id)?.file).toBe(join(REPO_COLLECTIONS, 'posts.json'));
    expect(fieldOf(get(schema, 'users'), 'password')).toMatchObject({ min: 8, hidden: true, required: true });
  });

  it('reports a missing folder as one problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-loader-'));
    try {
      const missing = join(dir, 'nope');
      const err = await loadCollections(missing).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidCollectionsError);
      expect((err as InvalidCollectionsError).problems.map(formatProblem)).toEqual([`${missing}: /: cannot read the collections folder (ENOENT)`]);
      // An empty folder is fine: only the built-in collections.
      expect((await loadCollections(dir)).collections.map((c) => c.name)).toEqual(['_superusers', '_mfas', '_otps', '_externalAuths', '_authOrigins']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
