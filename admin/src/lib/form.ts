import type { Collection, Field, RecordData } from '../types';
import { localInputToPb, pbToLocalInput } from './dates';
import { isHiddenSystem, isMultiple } from './fields';
import { asItems, fileEntries, fileListText, storedItems } from './files';

/**
 * The editor keeps each field in an input-friendly form (numbers and JSON as text, dates as local
 * datetime-local text) and converts to the API's values only when saving.
 */
export type GeoValue = { lon: string; lat: string };
export type FormValue = string | boolean | string[] | GeoValue | unknown;
export type FormValues = Record<string, FormValue>;

export const PASSWORD_CONFIRM = 'passwordConfirm';

/** Fields the editor shows (everything but hidden system fields such as tokenKey). */
export function editorFields(collection: Collection): Field[] {
  return collection.fields.filter((f) => !(isHiddenSystem(f) && f.type !== 'password'));
}

/** Fields whose value the client can send. */
export function isWritable(field: Field, mode: 'create' | 'update'): boolean {
  if (field.type === 'autodate') return false;
  if (isHiddenSystem(field) && field.type !== 'password') return false;
  if (field.name === 'id' || (field.type === 'text' && field.primaryKey)) return mode === 'create';
  return true;
}

function toText(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function toList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value === 'string' && value) return [value];
  return [];
}

export function toFormValue(field: Field, value: unknown): FormValue {
  switch (field.type) {
    case 'bool':
      return value === true;
    case 'number':
      return value === null || value === undefined || value === '' ? '' : String(value);
    case 'date':
      return pbToLocalInput(value);
    case 'select':
    case 'relation':
      return isMultiple(field) ? toList(value) : toText(Array.isArray(value) ? value[0] : value);
    case 'json':
      return value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
    case 'password':
      return '';
    case 'geoPoint': {
      const v = (value && typeof value === 'object' ? value : {}) as { lon?: unknown; lat?: unknown };
      return { lon: toText(v.lon ?? 0), lat: toText(v.lat ?? 0) };
    }
    case 'file':
      return storedItems(value);
    default:
      return toText(value);
  }
}

/** Form values of a record (or the empty form when `record` is null). */
export function toFormValues(collection: Collection, record: Partial<RecordData> | null): FormValues {
  const out: FormValues = {};
  for (const field of editorFields(collection)) out[field.name] = toFormValue(field, record ? record[field.name] : undefined);
  out[PASSWORD_CONFIRM] = '';
  return out;
}

/** Inline JSON check (before sending): the parse error, or null when the text is valid or empty. */
export function jsonError(text: string): string | null {
  if (!text.trim()) return null;
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return `Invalid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** API value of a form value. */
export function toApiValue(field: Field, value: FormValue): unknown {
  switch (field.type) {
    case 'bool':
      return value === true;
    case 'number': {
      const text = toText(value).trim();
      return text === '' ? null : Number(text);
    }
    case 'date':
      return localInputToPb(toText(value));
    case 'json': {
      const text = toText(value);
      return text.trim() ? JSON.parse(text) : null;
    }
    case 'select':
    case 'relation':
      return isMultiple(field) ? toList(value) : toText(value);
    case 'geoPoint': {
      const v = value as GeoValue;
      return { lon: Number(v.lon) || 0, lat: Number(v.lat) || 0 };
    }
    case 'file':
      return fileListText(asItems(value));
    default:
      return toText(value);
  }
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Client-side problems that stop a save (invalid JSON, passwords that differ). */
export function localErrors(collection: Collection, values: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of editorFields(collection)) {
    if (field.type === 'json') {
      const problem = jsonError(toText(values[field.name]));
      if (problem) out[field.name] = problem;
    }
    if (field.type === 'password' && toText(values[field.name]) !== toText(values[PASSWORD_CONFIRM])) {
      out[PASSWORD_CONFIRM] = "Passwords don't match.";
    }
  }
  return out;
}

/**
 * The request body. Create: every writable field (an empty id or password is left out).
 * Update: only the fields that differ from `initial`, so a save never rewrites untouched values.
 * File fields add their own keys (`f`, `f+`, `f-`, File values: see `fileEntries`); send the body
 * through `toRequestBody`.
 */
export function buildPayload(collection: Collection, values: FormValues, initial: FormValues, mode: 'create' | 'update'): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of editorFields(collection)) {
    if (!isWritable(field, mode)) continue;
    const value = values[field.name];
    if (field.type === 'password') {
      const text = toText(value);
      if (text) {
        body[field.name] = text;
        body[PASSWORD_CONFIRM] = toText(values[PASSWORD_CONFIRM]);
      }
      continue;
    }
    if (field.type === 'file') {
      Object.assign(body, fileEntries(field, asItems(value), asItems(initial[field.name]), mode));
      continue;
    }
    if (mode === 'create') {
      if (field.name === 'id' && !toText(value)) continue;
      if (field.type === 'number' && toText(value).trim() === '') continue;
      body[field.name] = toApiValue(field, value);
    } else if (!sameValue(value, initial[field.name])) {
      body[field.name] = toApiValue(field, value);
    }
  }
  return body;
}

/** Fields changed in the form compared to `initial`. */
export function changedFields(collection: Collection, values: FormValues, initial: FormValues): string[] {
  return editorFields(collection)
    .filter((f) => (f.type === 'password' ? toText(values[f.name]) !== '' : !sameValue(values[f.name], initial[f.name])))
    .map((f) => f.name);
}
