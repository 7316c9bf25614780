import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// Named import: under NodeNext the default import of this CommonJS module is not constructable for tsc.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { editorSchema } from '../../src/schema/index.js';
import { JSON_SCHEMA_PATH, jsonSchemaText } from '../helpers/write-json-schema.js';

const COLLECTIONS = new URL('../../collections/', import.meta.url).pathname;
const collectionFiles = readdirSync(COLLECTIONS).filter((f) => f.endsWith('.json')).sort();

function compile() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8')) as object);
}

describe('src/schema/collection-file.schema.json', () => {
  it('equals the schema generated from editorSchema() (run `npm run schema:write` after format changes)', () => {
    expect(readFileSync(JSON_SCHEMA_PATH, 'utf8')).toBe(jsonSchemaText());
    expect(JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8'))).toEqual(editorSchema());
  });

  it('is a draft 2020-12 schema that compiles with ajv in strict:false mode', () => {
    const schema = JSON.parse(readFileSync(JSON_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof compile()).toBe('function');
  });

  it('is what the example collection files point at', () => {
    expect(collectionFiles.length).toBeGreaterThan(0);
    for (const name of collectionFiles) {
      const data = JSON.parse(readFileSync(join(COLLECTIONS, name), 'utf8')) as Record<string, unknown>;
      expect(data['$schema'], name).toBe('../src/schema/collection-file.schema.json');
      expect(join(COLLECTIONS, data['$schema'] as string)).toBe(JSON_SCHEMA_PATH);
    }
  });

  it.each(collectionFiles)("validates the repo's collections/%s", (name) => {
    const validate = compile();
    const data = JSON.parse(readFileSync(join(COLLECTIONS, name), 'utf8')) as unknown;
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['an unknown top-level key', { name: 'posts', listrule: '' }],
    ['a misspelt field key', { name: 'posts', fields: [{ name: 'title', type: 'text', requried: true }] }],
    ['an unknown field type', { name: 'posts', fields: [{ name: 'title', type: 'string' }] }],
    ['a key of another field type', { name: 'posts', fields: [{ name: 'title', type: 'text', values: ['a'] }] }],
    ['a select without values', { name: 'posts', fields: [{ name: 's', type: 'select' }] }],
    ['a wrong value type', { name: 'posts', fields: [{ name: 'title', type: 'text', required: 'yes' }] }],
    ['a missing name', { fields: [] }],
    ['a bad collection type', { name: 'posts', type: 'table' }],
  ])('rejects %s', (_title, data) => {
    expect(compile()(data)).toBe(false);
  });
});
