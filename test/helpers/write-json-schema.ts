/**
 * Writes src/schema/collection-file.schema.json, the JSON Schema editors use for completion in
 * collection files (`"$schema": "../src/schema/collection-file.schema.json"`).
 * Run `npm run schema:write` after changing the file format or a field type;
 * test/schema/json-schema-file.test.ts fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { editorSchema } from '../../src/schema/index.js';

export const JSON_SCHEMA_PATH = new URL('../../src/schema/collection-file.schema.json', import.meta.url).pathname;

/** The file's exact text: 2-space JSON and a final newline. */
export function jsonSchemaText(): string {
  return `${JSON.stringify(editorSchema(), null, 2)}\n`;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  writeFileSync(JSON_SCHEMA_PATH, jsonSchemaText());
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
}
