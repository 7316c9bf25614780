import { junctionName } from '../db/index.js';
import { fieldType, isMultiple, parseIndex, type Collection, type Field } from '../schema/index.js';
import type { Kind } from './dialect.js';

/**
 * How a field's value is reached in SQL: a plain column, a JSON array column
 * (multiple select/file, and multiple relations inside views), or a junction
 * table (multiple relations of base and auth collections).
 */
export type FieldAccess =
  | { kind: 'column'; valueKind: Kind; relation: boolean }
  | { kind: 'jsonArray'; relation: boolean }
  | { kind: 'junction'; table: string };

const VALUE_KINDS = { text: 'text', number: 'number', bool: 'bool', json: 'json', date: 'date', ref: 'text' } as const;

export function fieldAccess(collection: Collection, field: Field): FieldAccess {
  const multiple = isMultiple(field);
  const relation = field.type === 'relation';
  if (multiple && (field.type === 'select' || field.type === 'file')) return { kind: 'jsonArray', relation: false };
  if (multiple && relation) {
    return collection.type === 'view' ? { kind: 'jsonArray', relation: true } : { kind: 'junction', table: junctionName(collection.name, field.name) };
  }
  const storage = fieldType(field.type).storage(field);
  const column = storage.kind === 'column' ? storage.column : 'json';
  return { kind: 'column', valueKind: VALUE_KINDS[column], relation };
}

/** Finds a field by exact name, then case-insensitively (PocketBase field names are unique ignoring case). */
export function findField(collection: Collection, name: string): Field | undefined {
  return collection.fields.find((f) => f.name === name) ?? collection.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
}

/** A single relation field with its own single-column UNIQUE index: its back-relation yields at most one record. */
export function hasUniqueIndex(collection: Collection, field: Field): boolean {
  return uniqueColumns(collection).has(field.name.toLowerCase());
}

/**
 * Whether the first single-column UNIQUE index on the field is `COLLATE NOCASE` (WHERE clauses
 * ignored, as PocketBase's FindSingleColumnUniqueIndex does): its value then identifies a record
 * ignoring ASCII case, which is how auth identities (username, email) are looked up.
 */
export function hasNocaseUniqueIndex(collection: Collection, field: Field): boolean {
  return indexFacts(collection).nocase.has(field.name.toLowerCase());
}

interface IndexFacts {
  /** Columns with a single-column UNIQUE index without WHERE. */
  unique: Set<string>;
  /** Columns whose first single-column UNIQUE index is COLLATE NOCASE. */
  nocase: Set<string>;
}

const INDEX_FACTS = new WeakMap<Collection, IndexFacts>();

function uniqueColumns(collection: Collection): Set<string> {
  return indexFacts(collection).unique;
}

/** Parsed once per (immutable) collection, not per request. */
function indexFacts(collection: Collection): IndexFacts {
  let facts = INDEX_FACTS.get(collection);
  if (!facts) {
    facts = { unique: new Set(), nocase: new Set() };
    const seen = new Set<string>();
    for (const source of collection.indexes) {
      try {
        const def = parseIndex(source);
        if (!def.unique || def.columns.length !== 1) continue;
        const column = def.columns[0]!;
        const name = column.name.toLowerCase();
        if (!def.where) facts.unique.add(name);
        if (!seen.has(name) && column.collate?.toUpperCase() === 'NOCASE') facts.nocase.add(name);
        seen.add(name);
      } catch {
        // an index Galley cannot read says nothing about uniqueness here
      }
    }
    INDEX_FACTS.set(collection, facts);
  }
  return facts;
}
