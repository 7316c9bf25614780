import type { ErrorObject } from 'ajv';
import type { FileProblem } from '../errors/index.js';
import { loadFileValidators } from './file-validators.js';
import { collectionIdFor, fieldIdFor } from './ids.js';
import { authSystemFields, authSystemIndexes, idField } from './system-fields.js';
import type { Collection, Field } from './types.js';
import { AUTH_KEYS } from './file-format.js';

/** Validators loaded once per process (module load, built at `npm run build`), not per file. */
const { collection: validateCollection, fields: validateField } = await loadFileValidators();

/**
 * Where each normalized field was written in its file (`/fields/<index>`), so later checks point
 * at the file's own index; implicit fields (`id`, auth system fields) have none.
 */
const sourceIndexes = new WeakMap<Field, number>();
/** The keys each field object had in the file, before defaults were filled in. */
const writtenKeys = new WeakMap<Field, Set<string>>();

/** The index of `field` in its file's `fields` array, or undefined for an implicit field. */
export function sourceIndexOf(field: Field): number | undefined {
  return sourceIndexes.get(field);
}

const TYPE_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  boolean: 'a boolean',
  integer: 'an integer',
  number: 'a number',
  null: 'null',
};
const typeName = (type: unknown) => TYPE_NAMES[String(type)] ?? String(type);

/** The closest allowed key to a misspelt one (case-insensitive match or edit distance <= 2). */
export function suggestKey(key: string, allowed: string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = allowed.find((a) => a.toLowerCase() === lower);
  if (exact) return exact;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions, e.g. "requried"). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Renders one ajv error as `pointer: message`, naming unknown keys and allowed values. */
export function ajvProblem(file: string, base: string, err: ErrorObject, suffix = ''): FileProblem {
  const params = err.params as Record<string, unknown>;
  let pointer = base + err.instancePath;
  let message = err.message ?? 'is invalid';
  switch (err.keyword) {
    case 'additionalProperties': {
      pointer += `/${String(params['additionalProperty'])}`;
      const allowed = Object.keys((err.parentSchema?.['properties'] as Record<string, unknown> | undefined) ?? {});
      const suggestion = suggestKey(String(params['additionalProperty']), allowed);
      message = suggestion ? `unknown key (did you mean "${suggestion}"?)` : 'unknown key';
      break;
    }
    case 'required':
      pointer += `/${String(params['missingProperty'])}`;
      message = 'is required';
      break;
    case 'enum':
      message = `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(params['allowedValue'])}`;
      break;
    case 'type':
      message = `must be ${typeName(params['type'])}`;
      break;
    case 'anyOf': {
      const branches = Array.isArray(err.schema) ? (err.schema as Record<string, unknown>[]) : [];
      const types = branches.map((b) => b['type']);
      message = types.length > 0 && types.every((t) => typeof t === 'string') ? `must be ${types.map(typeName).join(' or ')}` : 'has the wrong type';
      break;
    }
    case 'minLength':
      message = params['limit'] === 1 ? 'must not be empty' : `must be at least ${String(params['limit'])} characters long`;
      break;
    case 'maxLength':
      message = `must be at most ${String(params['limit'])} characters long`;
      break;
    case 'minItems':
      message = params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} items`;
      break;
    case 'pattern':
      if (params['pattern'] === '^\\w+$') message = 'must contain only letters, digits and "_"';
      break;
  }
  return { file, pointer, message: message + suffix };
}

/**
 * anyOf failures report each branch too; keep only the summary line. An empty string fails
 * both minLength and pattern; keep the clearer "must not be empty".
 */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const emptyPaths = new Set(errors.filter((e) => e.keyword === 'minLength').map((e) => e.instancePath));
  return errors
    .filter((e) => e.keyword === 'anyOf' || !anyOfPaths.has(e.instancePath) || e.keyword === 'additionalProperties')
    .filter((e) => e.keyword !== 'pattern' || !emptyPaths.has(e.instancePath));
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
    const problems = usefulErrors(validateCollection.errors ?? []).map((e) => ajvProblem(file, '', e, fieldLabel(data, e.instancePath)));
    // Report the fields' own problems too, so one run shows everything wrong with the file.
    const parsed = data as unknown;
    const fields = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['fields'] : undefined;
    if (Array.isArray(fields)) {
      fields.forEach((f, i) => {
        if (f && typeof f === 'object' && !Array.isArray(f)) normalizeField(file, f as Record<string, unknown>, i, problems);
      });
    }
    return { problems };
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

/** ` (field "title")` for an error inside `/fields/<i>`, when the field has a name. */
function fieldLabel(data: unknown, instancePath: string): string {
  const index = /^\/fields\/(\d+)\//.exec(instancePath)?.[1];
  if (index === undefined || !data || typeof data !== 'object') return '';
  const field = (data as { fields?: unknown[] }).fields?.[Number(index)] as Record<string, unknown> | undefined;
  return typeof field?.['name'] === 'string' ? ` (field "${field['name']}")` : '';
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
  sourceIndexes.set(result, index);
  writtenKeys.set(result, new Set(Object.keys(raw)));
  return result;
}

/** Adds `id` and, for auth collections, the system fields PocketBase forces, keeping any the file spells out. */
function addImplicitFields(collection: Collection): void {
  const implicit = collection.type === 'auth' ? [idField(), ...authSystemFields()] : [idField()];
  const written = new Map(collection.fields.map((f) => [f.name, f]));
  const merged = implicit.map((sys) => {
    const own = written.get(sys.name);
    if (!own || own.type !== sys.type) return sys;
    // A file may tune a system field's options (e.g. password min) but not its type or system flag.
    // Only keys the file wrote count: ajv's defaults (required: false, hidden: false) must not
    // override what the system field forces (password is required and hidden).
    const keys = writtenKeys.get(own) ?? new Set(Object.keys(own));
    const ownWritten = Object.fromEntries(Object.entries(own).filter(([k]) => keys.has(k)));
    const tuned = { ...own, ...sys, ...ownWritten, system: true };
    const index = sourceIndexes.get(own);
    if (index !== undefined) sourceIndexes.set(tuned, index);
    return tuned;
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
