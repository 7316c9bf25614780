import { existsSync } from 'node:fs';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { canonicalJson, sha256 } from './checksum.js';
import { collectionSchema, fieldSchema } from './file-format.js';
import type { JsonSchema } from './fields/field-type.js';
import { FIELD_TYPES } from './fields/index.js';

/**
 * The validators of the collection-file format: the collection object, then each field against
 * its type's schema. Compiling these 16 schemas took ~0.2 s and ~20 MB at every start, so
 * `npm run build` writes them as plain code next to this module (ajv standalone,
 * write-file-validators.ts) and a start only imports that. Run from source (tests, `tsx`), or
 * when the built file was made from other schemas, they are compiled here instead.
 */
export interface FileValidators {
  collection: ValidateFunction;
  /** By field type. */
  fields: Map<string, ValidateFunction>;
}

/** `verbose` gives errors their schema, for suggestions; `useDefaults` fills PocketBase's defaults in. */
export const FILE_VALIDATOR_OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, verbose: true };

/** The built module, beside this one in dist/schema/. */
export const PRECOMPILED_FILE_VALIDATORS = 'file-validators.generated.js';

const COLLECTION_EXPORT = 'collection';
const fieldExport = (type: string) => `field_${type}`;

/** Every schema by the name its validator is exported under in the built module. */
export function fileFormatSchemas(): Map<string, JsonSchema> {
  return new Map([[COLLECTION_EXPORT, collectionSchema], ...[...FIELD_TYPES.values()].map((type) => [fieldExport(type.type), fieldSchema(type)] as const)]);
}

/** Identifies the schemas a built module was made from: a stale build is never used. */
export function fileFormatFingerprint(schemas = fileFormatSchemas()): string {
  return sha256(canonicalJson([...schemas]));
}

export function compileFileValidators(): FileValidators {
  const ajv = new Ajv(FILE_VALIDATOR_OPTIONS);
  const schemas = fileFormatSchemas();
  const compiled = new Map([...schemas].map(([name, schema]) => [name, ajv.compile(schema)]));
  return fromExports(Object.fromEntries(compiled));
}

/** The built validators when present and made from the current schemas, else compiled now. */
export async function loadFileValidators(url = new URL(`./${PRECOMPILED_FILE_VALIDATORS}`, import.meta.url)): Promise<FileValidators> {
  if (!existsSync(url)) return compileFileValidators();
  const built = (await import(url.href)) as Record<string, unknown>;
  if (built['fingerprint'] !== fileFormatFingerprint()) return compileFileValidators();
  return fromExports(built);
}

function fromExports(exports: Record<string, unknown>): FileValidators {
  const get = (name: string) => {
    const validate = exports[name];
    if (typeof validate !== 'function') throw new Error(`file validators: "${name}" is missing`);
    return validate as ValidateFunction;
  };
  return { collection: get(COLLECTION_EXPORT), fields: new Map([...FIELD_TYPES.keys()].map((type) => [type, get(fieldExport(type))])) };
}
