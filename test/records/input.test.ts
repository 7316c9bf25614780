import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  castToBool,
  castToDate,
  castToJson,
  castToNumber,
  castToString,
  compileInputResolver,
  compilePatternGenerator,
  toUniqueStrings,
  type InputOptions,
} from '../../src/records/input.js';
import type { ApiRecord } from '../../src/records/types.js';
import type { Collection } from '../../src/schema/index.js';
import { schemaOf } from '../helpers/schema.js';

const schema = schemaOf(
  {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'slug', type: 'text', autogeneratePattern: 'post-[a-z]{4}' },
      { name: 'views', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'when', type: 'date' },
      { name: 'status', type: 'select', values: ['draft', 'live'] },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 4 },
      { name: 'author', type: 'relation', collection: 'users' },
      { name: 'readers', type: 'relation', collection: 'users', maxSelect: 5 },
      { name: 'meta', type: 'json' },
      { name: 'loc', type: 'geoPoint' },
      { name: 'site', type: 'url' },
      { name: 'mail', type: 'email' },
      { name: 'body', type: 'editor' },
      { name: 'cover', type: 'file' },
      { name: 'docs', type: 'file', maxSelect: 3 },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  },
  { name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text' }] },
);
const collection = (name: string): Collection => schema.byName.get(name)!;
const resolvePost = compileInputResolver(collection('posts'));
const resolveUser = compileInputResolver(collection('users'));

const guest: InputOptions = { existing: null, superuser: false, canManage: false };
const asSuperuser: InputOptions = { existing: null, superuser: true, canManage: false };

const storedPost: ApiRecord = {
  id: 'post00000000001',
  title: 'Hello',
  slug: 'post-abcd',
  views: 10,
  published: true,
  when: '2024-01-02 03:04:05.000Z',
  status: 'live',
  tags: ['a', 'b'],
  author: 'user00000000001',
  readers: ['r1', 'r2'],
  meta: { a: 1 },
  loc: { lon: 1, lat: 2 },
  site: 'https://example.com',
  mail: 'a@example.com',
  body: '<p>x</p>',
  cover: 'cover_abc.png',
  docs: ['one.pdf', 'two.pdf'],
  secret: 'hush',
  created: '2024-01-01 00:00:00.000Z',
  updated: '2024-01-01 00:00:00.000Z',
};
const update = (overrides: Partial<InputOptions> = {}): InputOptions => ({ existing: storedPost, superuser: false, canManage: false, ...overrides });

describe('create: starting values', () => {
  it('gives every non-autodate field its zero value and generates id and autogenerate fields', () => {
    const { values, changed, errors } = resolvePost({}, guest);
    expect(values).toEqual({
      id: expect.stringMatching(/^[a-z0-9]{15}$/),
      title: '',
      slug: expect.stringMatching(/^post-[a-z]{4}$/),
      views: 0,
      published: false,
      when: '',
      status: '',
      tags: [],
      author: '',
      readers: [],
      meta: null,
      loc: { lon: 0, lat: 0 },
      site: '',
      mail: '',
      body: '',
      cover: '',
      docs: [],
      secret: '',
    });
    expect(changed.size).toBe(0);
    expect(errors).toEqual({});
  });

  it('keeps a supplied id and a supplied autogenerate value', () => {
    const { values, changed } = resolvePost({ id: 'myid12345678901', slug: 'custom' }, guest);
    expect(values['id']).toBe('myid12345678901');
    expect(values['slug']).toBe('custom');
    expect([...changed].sort()).toEqual(['id', 'slug']);
  });

  it('generates different ids', () => {
    const ids = new Set(Array.from({ length: 50 }, () => resolvePost({}, guest).values['id']));
    expect(ids.size).toBe(50);
  });
});

describe('coercion (quirk 15): one row per field type', () => {
  const rows: [field: string, raw: unknown, expected: unknown][] = [
    ['title', 12, '12'],
    ['title', 1e21, '1000000000000000000000'],
    ['title', true, 'true'],
    ['title', null, ''],
    ['title', ['x'], ''],
    ['views', '12.5', 12.5],
    ['views', 'abc', 0],
    ['views', '', 0],
    ['views', true, 1],
    ['views', null, 0],
    ['views', [3], 0],
    ['published', 'true', true],
    ['published', '1', true],
    ['published', 1, true],
    ['published', 'yes', false],
    ['published', 0, false],
    ['published', null, false],
    ['when', '2024-05-06', '2024-05-06 00:00:00.000Z'],
    ['when', '2024-05-06T07:08:09.5+02:00', '2024-05-06 05:08:09.500Z'],
    ['when', 'not a date', ''],
    ['when', 1700000000, ''],
    ['when', '', ''],
    ['status', 'live', 'live'],
    ['status', ['draft', 'live'], 'live'],
    ['status', [], ''],
    ['tags', 'a', ['a']],
    ['tags', ['a', 'a', '', 'b'], ['a', 'b']],
    ['tags', '["c","d"]', ['c', 'd']],
    ['tags', '[not json', ['[not json']],
    ['tags', 5, ['5']],
    ['author', ['u1', 'u2'], 'u2'],
    ['readers', 'u1', ['u1']],
    ['meta', '{"a":[1,2]}', { a: [1, 2] }],
    ['meta', '[1,2]', [1, 2]],
    ['meta', '12', 12],
    ['meta', '-3', -3],
    ['meta', '"quoted"', 'quoted'],
    ['meta', 'true', true],
    ['meta', 'null', null],
    ['meta', 'hello', 'hello'],
    ['meta', '{bad', '{bad'],
    ['meta', '', ''],
    ['meta', { x: 1 }, { x: 1 }],
    ['loc', { lon: 10, lat: 20 }, { lon: 10, lat: 20 }],
    ['loc', '{"lon":1,"lat":-2}', { lon: 1, lat: -2 }],
    ['loc', { lon: '1', lat: 2 }, { lon: 0, lat: 2 }],
    ['loc', 'junk', { lon: 0, lat: 0 }],
    ['loc', null, { lon: 0, lat: 0 }],
    ['site', 5, '5'],
    ['mail', 'A@B.C', 'A@B.C'],
    ['body', false, 'false'],
    ['cover', ['a.png', 'b.png'], 'b.png'],
    ['docs', 'a.pdf', ['a.pdf']],
    ['docs', ['a.pdf', ['b.pdf', 'c.pdf'], 'a.pdf'], ['a.pdf']],
  ];

  it.each(rows)('%s ← %j gives %j', (field, raw, expected) => {
    const { values, changed, body } = resolvePost({ [field]: raw }, asSuperuser);
    expect(values[field]).toEqual(expected);
    expect(changed.has(field)).toBe(true);
    expect(body[field]).toEqual(expected);
  });

  it('gives each cast a value of the right type for arbitrary input (never throws)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        expect(typeof castToString(raw)).toBe('string');
        expect(typeof castToNumber(raw)).toBe('number');
        expect(typeof castToBool(raw)).toBe('boolean');
        expect(castToDate(raw)).toMatch(/^$|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);
        const list = toUniqueStrings(raw);
        expect(new Set(list).size).toBe(list.length);
        expect(list).not.toContain('');
        castToJson(raw);
      }),
    );
  });

  it('reads Go number spellings and treats out-of-range text as 0', () => {
    expect(castToNumber('Inf')).toBe(Infinity);
    expect(castToNumber('-infinity')).toBe(-Infinity);
    expect(castToNumber('NaN')).toBeNaN();
    expect(castToNumber('1e400')).toBe(0);
    expect(castToNumber(' 1')).toBe(0);
    expect(castToNumber('0x10')).toBe(0);
  });
});

describe('modifiers', () => {
  it.each([
    [{ 'views+': 5 }, 'views', 15],
    [{ 'views-': '2.5' }, 'views', 7.5],
    [{ views: 1, 'views+': 2 }, 'views', 3], // shortest key first: set, then add
    [{ 'tags+': ['c', 'a'] }, 'tags', ['a', 'b', 'c']],
    [{ '+tags': 'c' }, 'tags', ['c', 'a', 'b']],
    [{ 'tags-': ['a', 'zzz'] }, 'tags', ['b']],
    [{ tags: ['d'], 'tags+': 'c', 'tags-': 'd' }, 'tags', ['c']],
    [{ 'status+': 'draft' }, 'status', 'draft'],
    [{ 'status-': 'live' }, 'status', ''],
    [{ 'author-': 'user00000000001' }, 'author', ''],
    [{ 'readers+': 'r3' }, 'readers', ['r1', 'r2', 'r3']],
    [{ '+readers': ['r2', 'r0'] }, 'readers', ['r2', 'r0', 'r1']],
    [{ 'docs-': 'one.pdf' }, 'docs', ['two.pdf']],
    [{ 'cover-': 'cover_abc.png' }, 'cover', ''],
    [{ 'docs+': 'one.pdf' }, 'docs', ['one.pdf', 'two.pdf']],
  ] as [Record<string, unknown>, string, unknown][])('%j sets %s to %j', (data, field, expected) => {
    const { values, body, changed } = resolvePost(data, update());
    expect(values[field]).toEqual(expected);
    expect(changed).toEqual(new Set([field]));
    // @request.body holds the resolved value under the field name, not the modifier key.
    expect(body).toEqual({ [field]: expected });
  });

  it('applies modifiers on create from the zero value', () => {
    expect(resolvePost({ 'views+': 3, 'tags+': 'a' }, guest).values).toMatchObject({ views: 3, tags: ['a'] });
  });

  it('appends a generated suffix with :autogenerate', () => {
    const { values, body } = resolvePost({ 'slug:autogenerate': 'my-' }, update());
    expect(values['slug']).toMatch(/^my-post-[a-z]{4}$/);
    expect(body).toEqual({ slug: values['slug'] });
    // A field without a pattern just takes the value.
    expect(resolvePost({ 'title:autogenerate': 'x' }, update()).values['title']).toBe('x');
  });

  it('does not mutate the stored record', () => {
    const before = structuredClone(storedPost);
    resolvePost({ 'tags+': 'c', 'views+': 1, title: 'new' }, update());
    expect(storedPost).toEqual(before);
  });
});

describe('ignored keys', () => {
  it('ignores unknown keys, expand, collectionId, collectionName and autodate fields, keeping them out of values', () => {
    const data = { nope: 1, expand: 'author', collectionId: 'x', collectionName: 'y', created: '2020-01-01', 'updated+': 1 };
    const { values, changed, body } = resolvePost(data, update());
    expect(values).toEqual(storedPost);
    expect(changed.size).toBe(0);
    // Unknown keys (autodate has no `+` modifier) stay in @request.body as sent; autodate keys show
    // the stored value (PocketBase's no-op setter).
    expect(body).toEqual({ nope: 1, expand: 'author', collectionId: 'x', collectionName: 'y', 'updated+': 1, created: storedPost['created'] });
  });

  it('silently drops hidden fields for non-superusers, and takes them from superusers', () => {
    const byUser = resolvePost({ secret: 'new', 'secret:autogenerate': 'x' }, update());
    expect(byUser.values['secret']).toBe('hush');
    expect(byUser.changed.size).toBe(0);
    expect(byUser.body).toEqual({});
    const bySuperuser = resolvePost({ secret: 'new' }, update({ superuser: true }));
    expect(bySuperuser.values['secret']).toBe('new');
    expect(bySuperuser.body).toEqual({ secret: 'new' });
  });
});

describe('id', () => {
  it('refuses an id change on update', () => {
    const { errors } = resolvePost({ id: 'other0000000001' }, update());
    expect(errors['id']).toEqual({ code: 'validation_pk_change', message: 'The record primary key cannot be changed.' });
  });

  it('accepts the same id on update', () => {
    expect(resolvePost({ id: storedPost['id'] }, update()).errors).toEqual({});
  });

  it('generates an id when the supplied one is empty', () => {
    expect(resolvePost({ id: '' }, guest).values['id']).toMatch(/^[a-z0-9]{15}$/);
  });
});

describe('auth collections', () => {
  const storedUser: ApiRecord = {
    id: 'user00000000001',
    password: '$2a$10$hash',
    tokenKey: 'k'.repeat(50),
    email: 'old@example.com',
    emailVisibility: false,
    verified: false,
    name: 'Old',
  };
  const userUpdate = (overrides: Partial<InputOptions> = {}): InputOptions => ({ existing: storedUser, superuser: false, canManage: false, ...overrides });
  const mismatch = { code: 'validation_values_mismatch', message: "Values don't match." };
  const blank = { code: 'validation_required', message: 'Cannot be blank.' };

  it('creates with a matching password pair: plain password out of values, tokenKey generated', () => {
    const result = resolveUser({ email: 'a@b.co', password: 'secret123', passwordConfirm: 'secret123', name: 'A' }, guest);
    expect(result.errors).toEqual({});
    expect(result.newPassword).toBe('secret123');
    expect(result.values['password']).toBe('');
    expect(result.values['tokenKey']).toMatch(/^[a-zA-Z0-9]{50}$/);
    expect(result.values).not.toHaveProperty('passwordConfirm');
    expect(result.changed).toEqual(new Set(['email', 'password', 'name']));
    expect(result.body).toEqual({ email: 'a@b.co', password: 'secret123', passwordConfirm: 'secret123', name: 'A' });
  });

  it.each([
    ['no password at all', {}, { password: blank, passwordConfirm: blank }],
    ['no confirmation', { password: 'secret123' }, { passwordConfirm: blank }],
    ['a different confirmation', { password: 'secret123', passwordConfirm: 'other' }, { passwordConfirm: mismatch }],
    ['a confirmation only', { passwordConfirm: 'x' }, { password: blank, passwordConfirm: mismatch }],
  ])('refuses a create with %s', (_name, data, errors) => {
    expect(resolveUser({ email: 'a@b.co', ...data }, guest).errors).toEqual(errors);
  });

  it('refuses verified=true on create unless the requester can manage', () => {
    const data = { email: 'a@b.co', password: 'secret123', passwordConfirm: 'secret123', verified: true };
    expect(resolveUser(data, guest).errors).toEqual({ verified: mismatch });
    expect(resolveUser({ ...data, verified: false }, guest).errors).toEqual({});
    expect(resolveUser(data, { ...guest, canManage: true }).errors).toEqual({});
    expect(resolveUser(data, asSuperuser).errors).toEqual({});
  });

  it('lets only managers change email or verified on update', () => {
    expect(resolveUser({ email: 'new@example.com', verified: true }, userUpdate()).errors).toEqual({ email: mismatch, verified: mismatch });
    expect(resolveUser({ email: 'old@example.com', verified: false }, userUpdate()).errors).toEqual({});
    expect(resolveUser({ email: 'new@example.com', verified: true }, userUpdate({ canManage: true })).errors).toEqual({});
    expect(resolveUser({ email: 'new@example.com' }, userUpdate({ superuser: true })).errors).toEqual({});
  });

  it('needs the old password when a non-manager changes the password, and hands it over for verification', () => {
    const change = { password: 'newpass123', passwordConfirm: 'newpass123' };
    expect(resolveUser(change, userUpdate()).errors).toEqual({ oldPassword: blank });
    const withOld = resolveUser({ ...change, oldPassword: 'oldpass123' }, userUpdate());
    expect(withOld.errors).toEqual({});
    expect(withOld.oldPassword).toBe('oldpass123');
    expect(withOld.newPassword).toBe('newpass123');
    expect(withOld.values['password']).toBe(storedUser['password']);
    const byManager = resolveUser(change, userUpdate({ canManage: true }));
    expect(byManager.errors).toEqual({});
    expect(byManager.oldPassword).toBeUndefined();
  });

  it('does not require password keys on an update that leaves the password alone', () => {
    const result = resolveUser({ name: 'New' }, userUpdate());
    expect(result.errors).toEqual({});
    expect(result.newPassword).toBeUndefined();
    expect(result.values['password']).toBe(storedUser['password']);
  });

  it('clears the hash when an empty password is submitted (the validator then reports it as required)', () => {
    const result = resolveUser({ password: '' }, userUpdate());
    expect(result.values['password']).toBe('');
    expect(result.newPassword).toBeUndefined();
  });

  it('accepts password (a hidden field) from anyone, but not tokenKey', () => {
    const result = resolveUser({ tokenKey: 'x'.repeat(50), password: 'p4ssword!', passwordConfirm: 'p4ssword!', oldPassword: 'x' }, userUpdate());
    expect(result.values['tokenKey']).toBe(storedUser['tokenKey']);
    expect(result.newPassword).toBe('p4ssword!');
    expect(resolveUser({ tokenKey: 'x'.repeat(50) }, userUpdate({ superuser: true })).values['tokenKey']).toBe('x'.repeat(50));
  });
});

describe('compilePatternGenerator', () => {
  const patterns = ['[a-z0-9]{15}', '[a-zA-Z0-9]{50}', 'users[0-9]{6}', '(foo|bar)_\\d{2,4}', '^[A-F]{3}-[^a-z\\s]{5}$', 'x?y+z*', '\\w{8}', 'a.{3}', '(?:ab){2}[-_.]{1}'];

  it.each(patterns)('generates strings matching %s', (pattern) => {
    const generate = compilePatternGenerator(pattern);
    const anchored = new RegExp(`^(?:${pattern})$`);
    for (let i = 0; i < 200; i++) expect(generate()).toMatch(anchored);
  });

  it('uses every character of the class', () => {
    const generate = compilePatternGenerator('[a-c]{200}');
    expect(new Set(generate())).toEqual(new Set(['a', 'b', 'c']));
  });
});
