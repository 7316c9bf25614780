import type { Collection, Field } from '../types.js';

/**
 * How a field is stored. `column` kinds map to one column per dialect
 * (db/dialects); `junction` is a multiple relation kept in its own ordered table.
 */
export type ColumnKind = 'text' | 'number' | 'bool' | 'json' | 'date' | 'ref';
export type Storage =
  | { kind: 'column'; column: ColumnKind }
  | { kind: 'junction' };

export type JsonSchema = Record<string, unknown>;

/** Cross-collection facts a field check may need. */
export interface CheckContext {
  collection: Collection;
  resolveCollection(nameOrId: string): Collection | undefined;
}

/** A problem found in a field's options; `path` is relative to the field (e.g. `/maxSelect`). */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * One field type. Adding a type means adding one module that implements this
 * and registering it in fields/index.ts; nothing else changes.
 */
export interface FieldType {
  type: string;
  /** JSON Schema of the type's own option keys, with PocketBase's defaults. */
  options: Record<string, JsonSchema>;
  /** Option keys that are required in a file. */
  requiredOptions?: string[];
  /** `autodate` has neither `required` nor `help`. */
  noRequired?: boolean;
  storage(field: Field): Storage;
  /** The API value of an empty field. */
  zero(field: Field): unknown;
  /** Checks that need more than JSON Schema (cross-option or cross-collection). */
  check?(field: Field, ctx: CheckContext): FieldProblem[];
}

/** PocketBase's rule for select/relation/file: maxSelect 0 or 1 is single, more is multiple. */
export function isMultiple(field: Field): boolean {
  return typeof field['maxSelect'] === 'number' && field['maxSelect'] > 1;
}

export const intOption = (min = 0, dflt = 0): JsonSchema => ({ type: 'integer', minimum: min, default: dflt });
export const boolOption = (dflt = false): JsonSchema => ({ type: 'boolean', default: dflt });
export const stringOption = (dflt = ''): JsonSchema => ({ type: 'string', default: dflt });
export const domainsOption: JsonSchema = {
  anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }],
  default: null,
};
