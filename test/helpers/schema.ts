import { buildSchema, type Schema } from '../../src/schema/index.js';

/** Builds a schema from inline collection objects, as if each were `collections/<name>.json`. */
export function schemaOf(...collections: Record<string, unknown>[]): Schema {
  return buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: JSON.stringify(c) })));
}
