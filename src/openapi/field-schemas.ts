import type { Field } from '../schema/index.js';
import type { FieldShape } from './shape.js';

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = Record<string, unknown>;

/**
 * Where a field's schema is used: a record in a response, a JSON body, or a multipart form (files
 * are uploads there). Constraints mirror records/validate.ts: an empty value (`''`, `0`, `[]`)
 * only faces `required`, so an optional field also accepts its empty value.
 */
export type SchemaUse = 'record' | 'json' | 'form';

/** `YYYY-MM-DD HH:MM:SS.mmmZ`, UTC with a space, as every date in a response. */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$';
const DATE_EXAMPLE = '2024-11-10 18:45:27.123Z';
/** The forms a date input may take (records/input.ts → schema/dates.ts); `''` clears it. */
const DATE_INPUT_PATTERN = '^$|^\\d{4}-\\d{2}-\\d{2}(?:[ T]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?)?\\s*(?:Z|[+-]\\d{2}:?\\d{2})?$';

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The JSON Schema of one field's value. */
export function fieldSchema(shape: FieldShape, use: SchemaUse, viewField = false): JsonSchema {
  const { field } = shape;
  const described = (schema: JsonSchema) => withDescription(schema, describeField(shape, use));
  // A view's columns come from its query: their types hold, the options of source fields do not.
  if (viewField) return described(viewSchema(shape));
  switch (field.type) {
    case 'text':
      return described(textSchema(field, use));
    case 'password':
      // A response never carries the plain password (auth) and other password fields stay empty.
      return described(use === 'record' ? { type: 'string' } : lengthSchema(field, num(field['max']) || 71, String(field['pattern'] ?? '')));
    case 'editor':
      return described({ type: 'string', ...(field.required ? { minLength: 1 } : {}), description: `HTML, at most ${num(field['maxSize']) || 5 << 20} bytes.` });
    case 'email':
      return described(emailSchema(field));
    case 'url':
      // No `format: uri`: PocketBase also takes a URL without a scheme (`example.com/a`).
      return described({ type: 'string', ...(field.required ? { minLength: 1 } : {}), description: 'A URL (http, https, ws, wss, ftp, tcp or udp; the scheme may be left out).' });
    case 'number':
      return described(numberSchema(field));
    case 'bool':
      return described(field.required && use !== 'record' ? { type: 'boolean', const: true } : { type: 'boolean' });
    case 'date':
    case 'autodate':
      return described(dateSchema(field, use));
    case 'select':
      return described(selectSchema(shape));
    case 'relation':
      return described(listOrSingle(shape, { type: 'string', minLength: 1 }, 'relation'));
    case 'file':
      return described(fileSchema(shape, use));
    case 'geoPoint':
      return described({ $ref: '#/components/schemas/GeoPoint' });
    default: // json
      return described({ description: `Any JSON value (\`null\` when empty), at most ${num(field['maxSize']) || 1 << 20} bytes.` });
  }
}

function withDescription(schema: JsonSchema, description: string): JsonSchema {
  if (description === '') return schema;
  const own = typeof schema['description'] === 'string' ? `${schema['description'] as string} ` : '';
  return { ...schema, description: `${own}${description}`.trim() };
}

/** Notes a reader needs that the schema keywords do not carry: who sees or sets the field. */
function describeField(shape: FieldShape, use: SchemaUse): string {
  const notes: string[] = [];
  if (use === 'record' && shape.output === 'superusers') notes.push('Hidden field: only superusers see it.');
  if (use === 'record' && shape.output === 'visible') notes.push('Shown to the record itself, its managers (manageRule) and superusers, or to anyone when `emailVisibility` is true; always in auth responses.');
  if (use !== 'record' && shape.input === 'superusers') notes.push('Hidden field: only superusers may set it (ignored otherwise).');
  if (use !== 'record' && shape.input === 'managers') notes.push('Only superusers and managers (manageRule) may change it.');
  if (use !== 'record' && shape.field.type === 'password') notes.push('Never returned; stored as an argon2id hash.');
  if (use !== 'record' && shape.output === 'visible') notes.push('On update, only superusers and managers may change it directly; a record changes its own through request-email-change.');
  return notes.join(' ');
}

/** An email address; `''` too when the field is optional (an empty value skips the format check). */
function emailSchema(field: Field): JsonSchema {
  return field.required ? { type: 'string', format: 'email' } : { type: 'string', anyOf: [{ const: '' }, { format: 'email' }] };
}

function textSchema(field: Field, use: SchemaUse): JsonSchema {
  const isId = field['primaryKey'] === true;
  const max = num(field['max']) || 5000;
  const schema = lengthSchema({ ...field, required: field.required || (isId && use === 'record') }, max, String(field['pattern'] ?? ''));
  if (isId) schema['description'] = use === 'record' ? 'Record id.' : 'Optional on create: generated when absent (15 characters `[a-z0-9]`).';
  else if (field['autogeneratePattern']) schema['description'] = `Generated on create when empty (pattern \`${String(field['autogeneratePattern'])}\`).`;
  return schema;
}

/** Text and password: min/max characters and the pattern; `''` allowed when optional. */
function lengthSchema(field: Field, max: number, pattern: string): JsonSchema {
  const min = num(field['min']) ?? 0;
  const checks: JsonSchema = { maxLength: max };
  if (min > 0) checks['minLength'] = min;
  else if (field.required) checks['minLength'] = 1;
  if (pattern !== '') checks['pattern'] = pattern;
  if (field.required || (min === 0 && pattern === '')) return { type: 'string', ...checks };
  return { type: 'string', maxLength: max, anyOf: [{ const: '' }, checks] };
}

function numberSchema(field: Field): JsonSchema {
  const schema: JsonSchema = { type: field['onlyInt'] === true ? 'integer' : 'number' };
  const min = num(field['min']);
  const max = num(field['max']);
  const range: JsonSchema = {};
  if (min !== null) range['minimum'] = min;
  if (max !== null) range['maximum'] = max;
  if (field.required) return { ...schema, ...range, not: { const: 0 } };
  // 0 is the empty number: it skips min/max (PocketBase), so it is always accepted.
  const zeroInRange = (min === null || min <= 0) && (max === null || max >= 0);
  return zeroInRange ? { ...schema, ...range } : { ...schema, anyOf: [{ const: 0 }, range] };
}

function dateSchema(field: Field, use: SchemaUse): JsonSchema {
  if (use !== 'record') return { type: 'string', pattern: DATE_INPUT_PATTERN, examples: [DATE_EXAMPLE] };
  // An autodate set on create is never empty; an update-only one is until the first update.
  const alwaysSet = field.type === 'autodate' ? field['onCreate'] === true : field.required;
  const schema: JsonSchema = { type: 'string', pattern: alwaysSet ? DATE_PATTERN : `^$|${DATE_PATTERN}`, examples: [DATE_EXAMPLE] };
  const min = String(field['min'] ?? '');
  const max = String(field['max'] ?? '');
  if (min || max) schema['description'] = `Between ${min || 'any'} and ${max || 'any'}.`;
  if (field.type === 'autodate') schema['description'] = field['onUpdate'] ? 'Set by the server on create and on every update.' : 'Set by the server on create.';
  return schema;
}

function selectSchema(shape: FieldShape): JsonSchema {
  const values = [...new Set(strings(shape.field['values']))];
  if (shape.multiple) return listOrSingle(shape, { type: 'string', enum: values }, 'select');
  return { type: 'string', enum: shape.field.required ? values : ['', ...values] };
}

/** Multiple select/relation/file: an array without duplicates, up to maxSelect; single: the item or `''`. */
function listOrSingle(shape: FieldShape, item: JsonSchema, kind: 'select' | 'relation' | 'file'): JsonSchema {
  const { field } = shape;
  if (!shape.multiple) return field.required ? item : { type: 'string' };
  const min = kind === 'relation' ? Math.max(num(field['minSelect']) ?? 0, field.required ? 1 : 0) : field.required ? 1 : 0;
  const array: JsonSchema = { type: 'array', items: item, uniqueItems: true, maxItems: num(field['maxSelect']) ?? 1 };
  if (min > 0) array['minItems'] = min;
  return array;
}

/** Records hold file names; a JSON body keeps, reorders or drops existing names; a form uploads files. */
function fileSchema(shape: FieldShape, use: SchemaUse): JsonSchema {
  const maxSize = num(shape.field['maxSize']) || 5 << 20;
  const mimeTypes = strings(shape.field['mimeTypes']);
  const upload: JsonSchema = {
    type: 'string',
    contentMediaType: mimeTypes.length === 1 ? mimeTypes[0] : 'application/octet-stream',
    description: `An uploaded file of at most ${maxSize} bytes${mimeTypes.length ? ` (${mimeTypes.join(', ')})` : ''}.`,
  };
  if (use === 'form') return shape.multiple ? { type: 'array', items: upload, maxItems: num(shape.field['maxSelect']) ?? 1 } : upload;
  const names = listOrSingle({ ...shape, field: { ...shape.field, required: use === 'record' && shape.field.required } }, { type: 'string', minLength: 1 }, 'file');
  return use === 'record' ? names : withDescription(names, 'Names of files the record already has (upload new files with multipart/form-data).');
}

/** A view column: the type of the value, nothing else. */
function viewSchema(shape: FieldShape): JsonSchema {
  switch (shape.field.type) {
    case 'number':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'json':
      return {};
    case 'geoPoint':
      return { $ref: '#/components/schemas/GeoPoint' };
    case 'select':
    case 'relation':
    case 'file':
      return shape.multiple ? { type: 'array', items: { type: 'string' } } : { type: 'string' };
    case 'date':
    case 'autodate':
      return { type: 'string', pattern: `^$|${DATE_PATTERN}` };
    default:
      return { type: 'string' };
  }
}
