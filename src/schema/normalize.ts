import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FileProblem } from '../errors/index.js';
import { collectionSchema, fieldSchema } from './file-format.js';
import { FIELD_TYPES } from './fields/index.js';
import { collectionIdFor, fieldIdFor } from './ids.js';
import { authSystemFields, authSystemIndexes, idField } from './system-fields.js';
import type { Collection, Field } from './types.js';
import { AUTH_KEYS } from './file-format.js';

/** Validators compiled once per process (module load), not per file. */
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateCollection = ajv.compile(collectionSchema);
const validateField = new Map<string, ValidateFunction>(
  [...FIELD_TYPES.values()].map((type) => [type.type, ajv.compile(fieldSchema(type))]),
);

/** Renders one ajv error as `pointer: message`, naming unknown keys and allowed values. */
export function ajvProblem(file: string, base: string, err: ErrorObject, suffix = ''): FileProblem {
  const params = err.params as Record<string, unknown>;
  let pointer = base + err.instancePath;
  let message = err.message ?? 'is invalid';
  if (err.keyword === 'additionalProperties') {
    pointer += `/${String(params['additionalProperty'])}`;
    message = 'unknown key';
  } else if (err.keyword === 'required') {
    pointer += `/${String(params['missingProperty'])}`;
    message = 'is required';
  } else if (err.keyword === 'enum') {
    message = `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (err.keyword === 'const') {
    message = `must be ${JSON.stringify(params['allowedValue'])}`;
  } else if (err.keyword === 'anyOf') {
    message = 'has the wrong type';
  }
  return { file, pointer, message: message + suffix };
}

/** anyOf failures report each branch too; keep only the summary line. */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === 'anyOf' || !anyOfPaths.has(e.instancePath) || e.keyword === 'additionalProperties');
}

/**
 * Validates one parsed collection object against the file format and fills in
 * defaults, implicit fields and deterministic ids. Returns problems instead of throwing.
 */
export function normalizeCollection(file: string, raw: unknown): { collection?: Collection; problems: FileProblem[] } {
  if (Array.isArray(raw)) {
    return { problems: [{ file, pointer: '', message: 'must be one collection object, not an array (for a PocketBase export run `galley import-pocketbase`)' }] };
  }
  const data = structuredClone(raw) as Record<string, unknown>;
  const written = new Set(raw && typeof raw === 'object' ? Object.keys(raw) : []);
  if (!validateCollection(data)) {
    return { problems: usefulErrors(validateCollection.errors ?? []).map((e) => ajvProblem(file, '', e)) };
  }
  const problems: FileProblem[] = [];
  const type = data['type'] as Collection['type'];
  if (type !== 'auth') {
    // Checked on the keys as written: ajv has filled in every default by now.
    for (const key of Object.keys(AUTH_KEYS).filter((k) => written.has(k))) {
      problems.push({ file, pointer: `/${key}`, message: 'is only allowed on auth collections' });
    }
  }
  if (type === 'view' && typeof data['viewQuery'] !== 'string') problems.push({ file, pointer: '/viewQuery', message: 'is required for view collections' });
  if (type !== 'view' && 'viewQuery' in data) problems.push({ file, pointer: '/viewQuery', message: 'is only allowed on view collections' });
  if (type !== 'auth') for (const key of Object.keys(AUTH_KEYS)) delete data[key];

  const fields = (data['fields'] as Record<string, unknown>[]).map((f, i) => normalizeField(file, f, i, problems));
  delete data['$schema'];
  delete data['created'];
  delete data['updated'];
  const collection = { ...data, fields: fields.filter((f): f is Field => f !== null) } as Collection;
  collection.id ||= collectionIdFor(collection.type, collection.name);
  if (type !== 'view' || !collection.fields.some((f) => f.name === 'id')) addImplicitFields(collection);
  return { collection, problems };
}

function normalizeField(file: string, raw: Record<string, unknown>, index: number, problems: FileProblem[]): Field | null {
  const validate = validateField.get(String(raw['type']));
  if (!validate) return null; // the collection schema already reported the unknown type
  const field = structuredClone(raw);
  if (!validate(field)) {
    const label = ` (${String(raw['type'])} "${String(raw['name'])}")`;
    problems.push(...usefulErrors(validate.errors ?? []).map((e) => ajvProblem(file, `/fields/${index}`, e, label)));
    return null;
  }
  const result = field as Field;
  result.id ||= fieldIdFor(result.type, result.name);
  return result;
}

/** Adds `id` and, for auth collections, the system fields PocketBase forces, keeping any the file spells out. */
function addImplicitFields(collection: Collection): void {
  const implicit = collection.type === 'auth' ? [idField(), ...authSystemFields()] : [idField()];
  const written = new Map(collection.fields.map((f) => [f.name, f]));
  const merged = implicit.map((sys) => {
    const own = written.get(sys.name);
    // A file may tune a system field's options (e.g. password min) but not its type or system flag.
    return own && own.type === sys.type ? { ...sys, ...own, system: true } : sys;
  });
  // A same-named field of another type stays, and is reported as a duplicate name later.
  const absorbed = new Set(merged.filter((f) => written.get(f.name)?.type === f.type).map((f) => f.name));
  const rest = collection.fields.filter((f) => !absorbed.has(f.name));
  collection.fields = [...merged, ...rest];
  if (collection.type === 'auth') {
    const missing = authSystemIndexes(collection).filter((sql) => !hasEquivalentIndex(collection.indexes, sql));
    collection.indexes = [...collection.indexes, ...missing];
  }
}

/** An auth collection's export already carries its tokenKey/email indexes, maybe under other names. */
function hasEquivalentIndex(indexes: string[], wanted: string): boolean {
  const columnOf = (sql: string) => /\(\s*`?(\w+)`?\s*\)/.exec(sql)?.[1];
  const isUnique = (sql: string) => /^\s*create\s+unique/i.test(sql);
  return indexes.some((sql) => isUnique(sql) && columnOf(sql) === columnOf(wanted) && !/,/.test(sql.slice(sql.indexOf('('))));
}
