import { describe, expect, it } from 'vitest';
import { InvalidCollectionsError, formatProblem } from '../../src/errors/index.js';
import { buildSchema, type SourceFile } from '../../src/schema/index.js';

/** The exact lines a set of files produces (fails the test if they load). */
function problemsOf(files: SourceFile[]): string[] {
  try {
    buildSchema(files);
  } catch (err) {
    if (!(err instanceof InvalidCollectionsError)) throw err;
    expect(err.message).toBe(err.problems.map(formatProblem).join('\n'));
    return err.problems.map(formatProblem);
  }
  throw new Error('expected the files to be rejected');
}

const file = (name: string, text: string): SourceFile => ({ file: `collections/${name}.json`, text });
const json = (value: Record<string, unknown>) => JSON.stringify(value, null, 2);
/** A valid `users` collection that relations and views in the rows can point at. */
const users = file('users', json({ name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text' }] }));
const posts = (extra: Record<string, unknown>) => file('posts', json({ name: 'posts', ...extra }));
const field = (f: Record<string, unknown>) => posts({ fields: [f] });

interface Row {
  title: string;
  files: SourceFile[];
  lines: string[];
}

const rows: Row[] = [
  {
    title: 'JSON syntax error (line and column)',
    files: [file('posts', '{\n  "name": "posts",\n  "fields": [,]\n}\n')],
    lines: ['collections/posts.json: /: invalid JSON at line 3, column 14: unexpected ","'],
  },
  {
    title: 'JSON trailing comma',
    files: [file('posts', '{\n  "name": "posts",\n}')],
    lines: ['collections/posts.json: /: invalid JSON at line 3, column 1: trailing comma before "}"'],
  },
  {
    title: 'JSON truncated',
    files: [file('posts', '{"name": "posts"')],
    lines: ['collections/posts.json: /: invalid JSON at line 1, column 17: expected "," or "}" after a property value, found end of input'],
  },
  {
    title: 'JSON single quotes',
    files: [file('posts', "{\n\t'name': 'posts'}")],
    lines: ['collections/posts.json: /: invalid JSON at line 2, column 2: expected a property name in double quotes, found "\'"'],
  },
  {
    title: 'empty file',
    files: [file('posts', '')],
    lines: ['collections/posts.json: /: invalid JSON at line 1, column 1: unexpected end of input'],
  },
  {
    title: 'array instead of object',
    files: [file('posts', '[{"name": "posts"}]')],
    lines: ['collections/posts.json: /: must be one collection object, not an array (for a PocketBase export run `galley import-pocketbase`)'],
  },
  { title: 'a string instead of an object', files: [file('posts', '"posts"')], lines: ['collections/posts.json: /: must be an object'] },
  { title: 'missing name', files: [file('posts', '{"fields": []}')], lines: ['collections/posts.json: /name: is required'] },
  { title: 'empty name', files: [file('posts', '{"name": ""}')], lines: ['collections/posts.json: /name: must not be empty'] },
  {
    title: 'bad name characters',
    files: [file('my-posts', '{"name": "my-posts"}')],
    lines: ['collections/my-posts.json: /name: must contain only letters, digits and "_"'],
  },
  { title: 'name not matching the file name', files: [posts({ name: 'articles' })], lines: ['collections/posts.json: /name: must match the file name ("posts")'] },
  { title: 'unknown top-level key (typo)', files: [posts({ listrule: '' })], lines: ['collections/posts.json: /listrule: unknown key (did you mean "listRule"?)'] },
  { title: 'unknown top-level key', files: [posts({ color: 'red' })], lines: ['collections/posts.json: /color: unknown key'] },
  { title: 'wrong collection type', files: [posts({ type: 'table' })], lines: ['collections/posts.json: /type: must be one of "base", "auth", "view"'] },
  { title: 'rule of the wrong type', files: [posts({ listRule: 5 })], lines: ['collections/posts.json: /listRule: must be a string or null'] },
  { title: 'fields not an array', files: [posts({ fields: {} })], lines: ['collections/posts.json: /fields: must be an array'] },
  {
    title: 'unknown field key (typo)',
    files: [field({ name: 'title', type: 'text', requried: true })],
    lines: ['collections/posts.json: /fields/0/requried: unknown key (did you mean "required"?) (text "title")'],
  },
  {
    title: 'unknown field type',
    files: [field({ name: 'title', type: 'string' })],
    lines: [
      'collections/posts.json: /fields/0/type: must be one of "text", "number", "bool", "email", "url", "editor", "date", "autodate", "select", "json", "file", "relation", "password", "geoPoint" (field "title")',
    ],
  },
  { title: 'field without type', files: [field({ name: 'title' })], lines: ['collections/posts.json: /fields/0/type: is required'] },
  {
    title: 'bad field name characters',
    files: [field({ name: 'bad name', type: 'text' })],
    lines: ['collections/posts.json: /fields/0/name: must contain only letters, digits and "_" (text "bad name")'],
  },
  { title: 'select without values', files: [field({ name: 'status', type: 'select' })], lines: ['collections/posts.json: /fields/0/values: is required (select "status")'] },
  {
    title: 'select with empty values',
    files: [field({ name: 'status', type: 'select', values: [] })],
    lines: ['collections/posts.json: /fields/0/values: must not be empty (select "status")'],
  },
  {
    title: 'select maxSelect > number of values',
    files: [field({ name: 'status', type: 'select', values: ['draft', 'live'], maxSelect: 3 })],
    lines: ['collections/posts.json: /fields/0/maxSelect: must be <= 2 (the number of values) (select "status")'],
  },
  {
    title: 'relation to an unknown collection (by name)',
    files: [field({ name: 'author', type: 'relation', collection: 'people' })],
    lines: ['collections/posts.json: /fields/0/collection: unknown collection "people" (relation "author")'],
  },
  {
    title: 'relation to an unknown collection (by id)',
    files: [field({ name: 'author', type: 'relation', collectionId: 'pbc_1' })],
    lines: ['collections/posts.json: /fields/0/collectionId: unknown collection "pbc_1" (relation "author")'],
  },
  {
    title: 'relation without a target',
    files: [field({ name: 'author', type: 'relation' })],
    lines: ['collections/posts.json: /fields/0/collectionId: is required (or "collection" with the target collection\'s name) (relation "author")'],
  },
  {
    title: 'relation with maxSelect 0 (the contract example)',
    files: [
      posts({
        fields: [
          { name: 'title', type: 'text' },
          { name: 'body', type: 'editor' },
          { name: 'tags', type: 'relation', collection: 'posts', maxSelect: 0 },
        ],
      }),
    ],
    lines: ['collections/posts.json: /fields/2/maxSelect: must be >= 1 (relation "tags")'],
  },
  {
    title: 'relation minSelect > maxSelect',
    files: [field({ name: 'tags', type: 'relation', collection: 'posts', minSelect: 5, maxSelect: 3 })],
    lines: ['collections/posts.json: /fields/0/minSelect: must be <= maxSelect (3) (relation "tags")'],
  },
  {
    title: 'duplicate field names (case-insensitive)',
    files: [posts({ fields: [{ name: 'Title', type: 'text' }, { name: 'body', type: 'text' }, { name: 'title', type: 'text' }] })],
    lines: ['collections/posts.json: /fields/2/name: duplicate field name, also /fields/0 (names are case-insensitive) (text "title")'],
  },
  {
    title: 'a field clashing with the implicit id',
    files: [field({ name: 'id', type: 'number' })],
    lines: ['collections/posts.json: /fields/0/name: clashes with the system field "id", which is text (number "id")'],
  },
  {
    title: 'a field clashing with an auth system field',
    files: [file('users', json({ name: 'users', type: 'auth', fields: [{ name: 'email', type: 'text' }] }))],
    lines: ['collections/users.json: /fields/0/name: clashes with the system field "email", which is email (text "email")'],
  },
  { title: 'reserved field name', files: [field({ name: 'expand', type: 'json' })], lines: ['collections/posts.json: /fields/0/name: is a reserved name (json "expand")'] },
  { title: '_via_ in a collection name', files: [file('posts_via_x', '{"name": "posts_via_x"}')], lines: ['collections/posts_via_x.json: /name: must not contain "_via_"'] },
  {
    title: '_via_ in a field name',
    files: [field({ name: 'a_via_b', type: 'text' })],
    lines: ['collections/posts.json: /fields/0/name: must not contain "_via_" (text "a_via_b")'],
  },
  { title: 'reserved _galley_ prefix', files: [file('_galley_x', '{"name": "_galley_x"}')], lines: ['collections/_galley_x.json: /name: the "_galley_" prefix is reserved for Galley\'s own tables'] },
  {
    title: 'redefining _superusers',
    files: [file('_superusers', '{"name": "_superusers", "type": "auth"}')],
    lines: ['collections/_superusers.json: /name: "_superusers" is built into Galley'],
  },
  {
    title: 'duplicate collection names across two files',
    files: [file('posts', '{"name": "posts"}'), file('Posts', '{"name": "Posts"}')],
    lines: ['collections/Posts.json: /name: duplicate collection name "Posts" (also in collections/posts.json)'],
  },
  { title: 'auth-only key on a base collection', files: [posts({ passwordAuth: { enabled: true } })], lines: ['collections/posts.json: /passwordAuth: is only allowed on auth collections'] },
  { title: 'view without viewQuery', files: [posts({ type: 'view' })], lines: ['collections/posts.json: /viewQuery: is required for view collections'] },
  { title: 'viewQuery on a base collection', files: [users, posts({ viewQuery: 'SELECT id FROM users' })], lines: ['collections/posts.json: /viewQuery: is only allowed on view collections'] },
  {
    title: 'view query that does not parse',
    files: [users, posts({ type: 'view', viewQuery: 'SELECT id,\n  FROM users' })],
    lines: ['collections/posts.json: /viewQuery: does not parse: syntax error at line 2, column 8 near "users"'],
  },
  {
    title: 'view query that is not a SELECT',
    files: [users, posts({ type: 'view', viewQuery: 'DELETE FROM users' })],
    lines: ['collections/posts.json: /viewQuery: does not parse: must be a single SELECT statement'],
  },
  { title: 'view reading an unknown table', files: [posts({ type: 'view', viewQuery: 'SELECT id FROM people' })], lines: ['collections/posts.json: /viewQuery: reads unknown collection "people"'] },
  {
    title: 'view reading itself',
    files: [posts({ type: 'view', viewQuery: 'SELECT id FROM posts' })],
    lines: ['collections/posts.json: /viewQuery: reads itself through "posts" → "posts"'],
  },
  {
    title: 'views reading each other',
    files: [
      { file: 'collections/a.json', text: JSON.stringify({ name: 'a', type: 'view', viewQuery: 'SELECT id FROM b', fields: [] }) },
      { file: 'collections/b.json', text: JSON.stringify({ name: 'b', type: 'view', viewQuery: 'WITH x AS (SELECT id FROM a) SELECT id FROM x', fields: [] }) },
    ],
    lines: ['collections/a.json: /viewQuery: reads itself through "a" → "b" → "a"', 'collections/b.json: /viewQuery: reads itself through "b" → "a" → "b"'],
  },
  { title: 'rule that does not parse', files: [posts({ listRule: 'title = ' })], lines: ['collections/posts.json: /listRule: does not parse: expected an operand, found end of input at position 9'] },
  { title: 'rule with a bad operator', files: [posts({ updateRule: 'title == 1' })], lines: ['collections/posts.json: /updateRule: does not parse: invalid operator "==" at position 7'] },
  {
    title: 'index that does not parse',
    files: [posts({ indexes: ['CREATE INDEX idx_posts ON posts'] })],
    lines: ['collections/posts.json: /indexes/0: does not parse: expected "(" after the table name'],
  },
  {
    title: 'index that is not CREATE INDEX',
    files: [posts({ indexes: ['CREATE INDX idx_posts ON posts (id)'] })],
    lines: ['collections/posts.json: /indexes/0: does not parse: must start with CREATE [UNIQUE] INDEX'],
  },
  {
    title: 'index naming an unknown column',
    files: [posts({ indexes: ['CREATE INDEX idx_posts ON posts (slug)'] })],
    lines: ['collections/posts.json: /indexes/0: unknown column "slug" (not a field of "posts")'],
  },
  {
    title: 'index on another table',
    files: [users, posts({ indexes: ['CREATE INDEX idx_posts ON users (id)'] })],
    lines: ['collections/posts.json: /indexes/0: is on table "users"; an index must be on its own collection ("posts")'],
  },
  {
    title: 'duplicate index names in one file',
    files: [posts({ indexes: ['CREATE INDEX idx_a ON posts (id)', 'CREATE INDEX IDX_A ON posts (id)'] })],
    lines: ['collections/posts.json: /indexes/1: duplicate index name "IDX_A" (also at /indexes/0)'],
  },
  {
    title: 'duplicate index names across files',
    files: [
      file('tags', json({ name: 'tags', indexes: ['CREATE INDEX idx_a ON tags (id)'] })),
      posts({ indexes: ['CREATE INDEX idx_a ON posts (id)'] }),
    ],
    lines: ['collections/posts.json: /indexes/0: duplicate index name "idx_a" (also in collections/tags.json at /indexes/0)'],
  },
  {
    title: 'bad regex pattern',
    files: [field({ name: 'slug', type: 'text', pattern: '[a-' })],
    lines: ['collections/posts.json: /fields/0/pattern: invalid regular expression: Unterminated character class (text "slug")'],
  },
  {
    title: 'autodate with neither onCreate nor onUpdate',
    files: [field({ name: 'created', type: 'autodate' })],
    lines: ['collections/posts.json: /fields/0: at least one of onCreate and onUpdate must be true (autodate "created")'],
  },
  { title: 'text min > max', files: [field({ name: 'title', type: 'text', min: 10, max: 5 })], lines: ['collections/posts.json: /fields/0/min: must be <= max (5) (text "title")'] },
  { title: 'number min > max', files: [field({ name: 'views', type: 'number', min: 10, max: 5 })], lines: ['collections/posts.json: /fields/0/min: must be <= max (5) (number "views")'] },
  {
    title: 'file with a bad thumb',
    files: [field({ name: 'cover', type: 'file', thumbs: ['100x100', '100'] })],
    lines: ['collections/posts.json: /fields/0/thumbs/1: invalid thumb size "100" (expected e.g. 100x100, 0x300 or 300x100t) (file "cover")'],
  },
  { title: 'wrong value type', files: [field({ name: 'title', type: 'text', required: 'yes' })], lines: ['collections/posts.json: /fields/0/required: must be a boolean (text "title")'] },
  { title: 'negative text min', files: [field({ name: 'title', type: 'text', min: -1 })], lines: ['collections/posts.json: /fields/0/min: must be >= 0 (text "title")'] },
  { title: 'password max over bcrypt limit', files: [field({ name: 'pin', type: 'password', max: 100 })], lines: ['collections/posts.json: /fields/0/max: must be <= 71 (password "pin")'] },
  {
    title: 'email with both domain lists',
    files: [field({ name: 'contact', type: 'email', onlyDomains: ['a.com'], exceptDomains: ['b.com'] })],
    lines: ['collections/posts.json: /fields/0/onlyDomains: cannot be set together with exceptDomains (email "contact")'],
  },
  {
    title: 'date with a bad min',
    files: [field({ name: 'due', type: 'date', min: 'yesterday' })],
    lines: ['collections/posts.json: /fields/0/min: must be a date (YYYY-MM-DD HH:MM:SS.mmmZ) (date "due")'],
  },
  {
    title: 'primaryKey on a non-id field',
    files: [field({ name: 'code', type: 'text', primaryKey: true })],
    lines: ['collections/posts.json: /fields/0/primaryKey: only the "id" field can be the primary key (text "code")'],
  },
];

describe('invalid collection files: one exact line per problem', () => {
  it('has a broad table', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(new Set(rows.map((r) => r.title)).size).toBe(rows.length);
  });

  it.each(rows)('$title', ({ files, lines }) => {
    expect(problemsOf(files)).toEqual(lines);
  });
});

describe('every problem is reported together', () => {
  it('lists the problems of several files in one error, in file order', () => {
    const lines = problemsOf([
      file('comments', '{"name": "comments",'),
      // A file failing the format is not cross-checked (its rule is not parsed), but every format error shows.
      file('posts', json({ name: 'posts', listRule: 'title = ', fields: [{ name: 'title', type: 'text', requried: true }, { name: 'created', type: 'autodate', onCreate: 'yes' }] })),
      file('tags', json({ name: 'tags', fields: [{ name: 'post', type: 'relation', collection: 'articles' }], indexes: ['CREATE INDEX idx_tags ON tags (nope)'] })),
      users,
    ]);
    expect(lines).toEqual([
      'collections/comments.json: /: invalid JSON at line 1, column 21: expected a property name in double quotes, found end of input',
      'collections/posts.json: /fields/0/requried: unknown key (did you mean "required"?) (text "title")',
      'collections/posts.json: /fields/1/onCreate: must be a boolean (autodate "created")',
      'collections/tags.json: /fields/0/collection: unknown collection "articles" (relation "post")',
      'collections/tags.json: /indexes/0: unknown column "nope" (not a field of "tags")',
    ]);
  });

  it('reports several problems of one file, including fields next to a collection-level error', () => {
    const lines = problemsOf([
      posts({ colour: 1, fields: [{ name: 'title', type: 'string' }, { name: 'body', type: 'text', min: 'a', pattern: 5 }] }),
    ]);
    expect(lines).toEqual([
      'collections/posts.json: /colour: unknown key',
      'collections/posts.json: /fields/0/type: must be one of "text", "number", "bool", "email", "url", "editor", "date", "autodate", "select", "json", "file", "relation", "password", "geoPoint" (field "title")',
      'collections/posts.json: /fields/1/min: must be an integer (text "body")',
      'collections/posts.json: /fields/1/pattern: must be a string (text "body")',
    ]);
  });

  it('checks rules, indexes and view queries of files that are otherwise valid', () => {
    const lines = problemsOf([
      users,
      posts({ listRule: '(a = 1', viewRule: 'a = 1 &&', fields: [{ name: 'a', type: 'number' }], indexes: ['CREATE INDEX idx_p ON posts (a'] }),
    ]);
    expect(lines).toEqual([
      'collections/posts.json: /listRule: does not parse: expected ")", found end of input at position 7',
      'collections/posts.json: /viewRule: does not parse: expected an expression after "&&" at position 9',
      'collections/posts.json: /indexes/0: does not parse: expected "," or ")" in the column list',
    ]);
  });
});
