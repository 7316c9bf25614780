import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectionFileText, convertPocketBaseExport } from '../../src/schema/import-pocketbase.js';
import { buildSchema, loadCollections, type Schema } from '../../src/schema/index.js';
import { EXAMPLE_COLLECTIONS } from '../helpers/app.js';
import { schemaOf } from '../helpers/schema.js';
import { COLLECTIONS as QUERY_DATASET } from '../query/fixtures/dataset.js';

/**
 * A lending library that uses every field type and option the generators treat specially: file
 * fields (multipart bodies), a geoPoint, hidden fields, an auth collection with OTP, MFA and
 * username sign-in, a unique back-relation, a view, names that PascalCase alike, a field name
 * that is not a JavaScript identifier, locked and open rules.
 */
export const LIBRARY: Record<string, unknown>[] = [
  {
    name: 'members',
    type: 'auth',
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    createRule: '',
    updateRule: 'id = @request.auth.id',
    deleteRule: null,
    passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
    otp: { enabled: true },
    mfa: { enabled: true },
    fields: [
      { name: 'username', type: 'text', required: true, min: 3, max: 40, pattern: '^[a-z0-9_]+$' },
      { name: 'avatar', type: 'file', maxSelect: 1, maxSize: 1048576, mimeTypes: ['image/png', 'image/jpeg'], thumbs: ['100x100'] },
      { name: 'notes', type: 'text', hidden: true },
      { name: 'home', type: 'geoPoint' },
    ],
    indexes: ['CREATE UNIQUE INDEX `idx_members_username` ON `members` (`username`)'],
  },
  {
    name: 'authors',
    listRule: '',
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'name', type: 'text', required: true },
      { name: 'website', type: 'url', onlyDomains: ['example.com'] },
      { name: 'contact', type: 'email' },
      { name: 'born', type: 'date', min: '1000-01-01 00:00:00.000Z' },
      { name: 'bio', type: 'editor', maxSize: 10000 },
    ],
  },
  {
    name: 'books',
    listRule: '',
    viewRule: '',
    createRule: '@request.auth.id != ""',
    updateRule: '@request.auth.id != ""',
    deleteRule: null,
    fields: [
      { name: 'title', type: 'text', required: true, max: 300 },
      { name: 'isbn', type: 'text', pattern: '^[0-9-]{10,17}$', min: 10 },
      { name: 'authors', type: 'relation', collection: 'authors', maxSelect: 5, minSelect: 1, required: true },
      { name: 'genres', type: 'select', values: ['fiction', 'poetry', 'history', 'science'], maxSelect: 2 },
      { name: 'format', type: 'select', values: ['hardcover', 'paperback', 'ebook'], maxSelect: 1, required: true },
      { name: 'pages', type: 'number', min: 1, max: 10000, onlyInt: true },
      { name: 'rating', type: 'number', min: -5, max: 5, required: true },
      { name: 'available', type: 'bool' },
      { name: 'cover', type: 'file', maxSelect: 1, protected: true },
      { name: 'scans', type: 'file', maxSelect: 4, maxSize: 5000000 },
      { name: 'extra', type: 'json', maxSize: 2000 },
      { name: '2nd_edition', type: 'bool' },
      { name: 'code', type: 'text', autogeneratePattern: '[A-Z]{6}', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
      { name: 'reviewed', type: 'autodate', onCreate: false, onUpdate: true },
    ],
  },
  {
    name: 'loans',
    listRule: 'member = @request.auth.id',
    viewRule: 'member = @request.auth.id',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    fields: [
      { name: 'book', type: 'relation', collection: 'books', maxSelect: 1, required: true, cascadeDelete: true },
      { name: 'member', type: 'relation', collection: 'members', maxSelect: 1, required: true },
      { name: 'due', type: 'date', required: true },
    ],
    indexes: ['CREATE UNIQUE INDEX `idx_loans_book` ON `loans` (`book`)'],
  },
  { name: 'my_shelf', fields: [{ name: 'books', type: 'relation', collection: 'books', maxSelect: 50 }] },
  { name: 'myShelf', fields: [{ name: 'label', type: 'text' }] },
  {
    name: 'book_stats',
    type: 'view',
    listRule: '',
    viewRule: '',
    viewQuery: 'SELECT b.id, b.title, b.pages, b.available, b.format, b.authors FROM books b',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'pages', type: 'number' },
      { name: 'available', type: 'bool' },
      { name: 'format', type: 'select', values: ['hardcover', 'paperback', 'ebook'], maxSelect: 1 },
      { name: 'authors', type: 'relation', collection: 'authors', maxSelect: 5 },
    ],
  },
];

export const librarySchema = (): Schema => schemaOf(...LIBRARY);
export const datasetSchema = (): Schema => schemaOf(...QUERY_DATASET);
export const exampleSchema = (): Promise<Schema> => loadCollections(EXAMPLE_COLLECTIONS);

/** Real PocketBase exports (the migration corpus), imported as `galley import-pocketbase` would. */
export const CORPUS_DIR = new URL('../fixtures/pocketbase-schemas/', import.meta.url).pathname;
export const CORPUS_FILES = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

export function corpusSchema(file: string): Schema {
  const { collections } = convertPocketBaseExport(JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')));
  return buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: collectionFileText(c) })));
}

/** Every schema the generators are checked on: name → schema. */
export async function allSchemas(): Promise<[string, Schema][]> {
  return [['example app', await exampleSchema()], ['library fixture', librarySchema()], ['filter dataset', datasetSchema()], ...CORPUS_FILES.map((f): [string, Schema] => [f, corpusSchema(f)])];
}
