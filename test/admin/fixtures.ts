/**
 * Collections of the admin panel's browser suite, written as files into a temporary
 * collections folder (the same shape as `collections/*.json`). Every rule is null:
 * only superusers (the panel) reach them.
 */

type Json = Record<string, unknown>;

const SUPERUSERS_ONLY = { listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null };

/** An auth collection: the target of the relations (its `name` is what the picker shows). */
export const PEOPLE: Json = {
  name: 'people',
  type: 'auth',
  ...SUPERUSERS_ONLY,
  fields: [{ name: 'name', type: 'text', max: 100, presentable: true }],
};

/** Select values in schema order: the panel keeps a multi-select in this order. */
export const STATUS_VALUES = ['draft', 'published', 'archived'];
export const TAG_VALUES = ['red', 'green', 'blue', 'yellow'];

/** A base collection with one field of every type the panel edits (and a read-only file field). */
export const KITCHEN: Json = {
  name: 'kitchen',
  type: 'base',
  ...SUPERUSERS_ONLY,
  fields: [
    { name: 'title', type: 'text', required: true, min: 3, max: 100, presentable: true },
    { name: 'count', type: 'number' },
    { name: 'done', type: 'bool' },
    { name: 'contact', type: 'email' },
    { name: 'site', type: 'url' },
    { name: 'body', type: 'editor' },
    { name: 'due', type: 'date' },
    { name: 'status', type: 'select', values: STATUS_VALUES, maxSelect: 1 },
    { name: 'tags', type: 'select', values: TAG_VALUES, maxSelect: 3 },
    { name: 'meta', type: 'json', maxSize: 65536 },
    { name: 'owner', type: 'relation', collection: 'people', maxSelect: 1 },
    { name: 'members', type: 'relation', collection: 'people', maxSelect: 5 },
    { name: 'attachment', type: 'file', maxSelect: 1, maxSize: 1048576 },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  indexes: [],
};

/** The performance figure's collection: 100,000 rows seeded straight into the table. */
export const BIG: Json = {
  name: 'big',
  type: 'base',
  ...SUPERUSERS_ONLY,
  fields: [
    { name: 'title', type: 'text', max: 100, presentable: true },
    { name: 'n', type: 'number', onlyInt: true },
    { name: 'flag', type: 'bool' },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  indexes: [],
};

export const COLLECTIONS: Json[] = [PEOPLE, KITCHEN, BIG];

/** The file fields' collection (test/admin/panel-files.test.ts starts its server with it). */
export const GALLERY: Json = {
  name: 'gallery',
  type: 'base',
  ...SUPERUSERS_ONLY,
  fields: [
    { name: 'title', type: 'text', max: 100, presentable: true },
    { name: 'cover', type: 'file', maxSelect: 1, maxSize: 65536, mimeTypes: ['image/png', 'image/jpeg'] },
    { name: 'docs', type: 'file', maxSelect: 4, maxSize: 1048576 },
    { name: 'secret', type: 'file', maxSelect: 1, maxSize: 1048576, protected: true },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  indexes: [],
};
