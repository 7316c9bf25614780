/**
 * The collection-file validators a build writes as code (ajv standalone, loaded at start instead of
 * compiled) must behave exactly as the ones compiled from the schemas: same verdict, same errors
 * (with the schema parts the problem messages read), same defaults filled in. Tests run from
 * source, where nothing is built, so this suite writes the module itself and compares the two on
 * every collection object at hand: the example app, each PocketBase corpus export (converted, and
 * raw: the older format fails in many ways), and objects broken on purpose.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFileValidators, loadFileValidators, type FileValidators } from '../../src/schema/file-validators.js';
import { convertPocketBaseExport } from '../../src/schema/import-pocketbase.js';
import { fileValidatorsModule, writeFileValidators } from '../../src/schema/write-file-validators.js';

const ROOT = new URL('../..', import.meta.url).pathname;
// Inside the repository, so that the module's require() of ajv's runtime resolves as in dist/.
const OUT = join(ROOT, 'test-output', `file-validators-${process.pid}`);
const FIXTURES = join(ROOT, 'test/fixtures/pocketbase-schemas');

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function corpus(): { name: string; data: unknown }[] {
  const items: { name: string; data: unknown }[] = [];
  for (const file of readdirSync(join(ROOT, 'collections')).filter((f) => f.endsWith('.json'))) items.push({ name: `collections/${file}`, data: readJson(join(ROOT, 'collections', file)) });
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
    const raw = readJson(join(FIXTURES, file)) as unknown[];
    raw.forEach((c, i) => items.push({ name: `${file}#${i} (as exported)`, data: c }));
    convertPocketBaseExport(raw).collections.forEach((c, i) => items.push({ name: `${file}#${i} (converted)`, data: c }));
  }
  const broken: unknown[] = [
    {},
    { name: '' },
    { name: 'x', type: 'table', listrule: '' },
    { name: 'x', fields: [{ name: 'a', type: 'text', requried: true }, { name: 'b', type: 'select' }, { name: 'c', type: 'number', min: 'one' }] },
    { name: 'x', type: 'auth', otp: { enabled: 'yes', length: 0 }, authToken: { duration: -1 } },
    { name: 'x', fields: [{ name: 'r', type: 'relation', maxSelect: 0 }, { name: 'j', type: 'json', maxSize: 1.5 }, { type: 'text' }] },
    [],
    'not an object',
  ];
  broken.forEach((data, i) => items.push({ name: `broken #${i}`, data }));
  return items;
}

/** What a run of one validator shows: its verdict, the data after defaults, and its errors. */
function run(validate: ValidateFunction, data: unknown) {
  const copy = structuredClone(data);
  const valid = validate(copy);
  const errors = (validate.errors ?? []).map((e: ErrorObject) => ({ ...e }));
  return { valid, data: copy, errors };
}

function runAll(validators: FileValidators, data: unknown) {
  const fields = Array.isArray((data as { fields?: unknown })?.fields) ? ((data as { fields: unknown[] }).fields) : [];
  return {
    collection: run(validators.collection, data),
    fields: fields.map((f) => {
      const validate = validators.fields.get(String((f as { type?: unknown })?.type));
      return validate ? run(validate, f) : null;
    }),
  };
}

describe('built collection-file validators (ajv standalone)', () => {
  let built: FileValidators;
  const compiled = compileFileValidators();

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    writeFileValidators(join(OUT, 'built.js'));
    built = await loadFileValidators(pathToFileURL(join(OUT, 'built.js')));
  });
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('are the module the build wrote, not a fallback compilation', () => {
    expect(built.collection).not.toBe(compiled.collection);
    expect(built.collection.toString()).not.toEqual(compiled.collection.toString());
    expect(built.fields.size).toBe(compiled.fields.size);
  });

  const items = corpus();
  it(`behave as the compiled ones on ${items.length} collection objects`, () => {
    expect(items.length).toBeGreaterThan(100);
    for (const { name, data } of items) expect(runAll(built, data), name).toEqual(runAll(compiled, data));
  });

  it('a module built from other schemas is not used: the validators are compiled instead', async () => {
    const stale = fileValidatorsModule().replace(/export const fingerprint = "[0-9a-f]+";/, 'export const fingerprint = "stale";');
    writeFileSync(join(OUT, 'stale.js'), stale);
    const loaded = await loadFileValidators(pathToFileURL(join(OUT, 'stale.js')));
    expect(loaded.collection.toString()).toEqual(compiled.collection.toString());
  });

  it('no module at all (running from source): compiled', async () => {
    const loaded = await loadFileValidators(pathToFileURL(join(OUT, 'missing.js')));
    expect(loaded.collection.toString()).toEqual(compiled.collection.toString());
  });
});
