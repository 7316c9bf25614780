import type { Collection, Field, RecordData, RelationField } from '../types';

/** select / relation / file holding several values (maxSelect > 1). */
export function isMultiple(field: Field): boolean {
  if (field.type !== 'select' && field.type !== 'relation' && field.type !== 'file') return false;
  return (field.maxSelect ?? 0) > 1;
}

/** Hidden system fields (`tokenKey`, `password`) are never shown as columns. */
export function isHiddenSystem(field: Field): boolean {
  return field.system && field.hidden;
}

/** Fields that can be columns of the records table. */
export function columnFields(collection: Collection): Field[] {
  return collection.fields.filter((f) => !isHiddenSystem(f) && f.type !== 'password');
}

/** Columns shown when nothing was picked for this collection yet. */
export function defaultColumns(collection: Collection): string[] {
  return columnFields(collection)
    .filter((f) => f.type !== 'editor' && f.type !== 'json')
    .slice(0, 9)
    .map((f) => f.name);
}

/** Multiple relations sort by their junction table; the server may refuse them, so no sort button. */
export function isSortable(field: Field): boolean {
  if (field.type === 'relation' || field.type === 'file') return !isMultiple(field);
  if (field.type === 'select') return !isMultiple(field);
  return field.type !== 'json' && field.type !== 'geoPoint';
}

export function findCollection(collections: Collection[], idOrName: string): Collection | undefined {
  return (
    collections.find((c) => c.id === idOrName) ??
    collections.find((c) => c.name === idOrName) ??
    collections.find((c) => c.name.toLowerCase() === idOrName.toLowerCase())
  );
}

export function relationTarget(collections: Collection[], field: RelationField): Collection | undefined {
  const byName = (field as { collection?: unknown }).collection;
  return findCollection(collections, field.collectionId) ?? (typeof byName === 'string' ? findCollection(collections, byName) : undefined);
}

export function presentableFields(collection: Collection | undefined): Field[] {
  return collection ? collection.fields.filter((f) => f.presentable && !isHiddenSystem(f)) : [];
}

/** Fields searched with `~` by the relation picker: presentable + text-like, plus the id. */
export function searchableFields(collection: Collection): string[] {
  const names = new Set<string>(['id']);
  for (const f of presentableFields(collection)) if (f.type !== 'relation' && f.type !== 'json' && f.type !== 'bool') names.add(f.name);
  for (const f of collection.fields) {
    if (f.hidden) continue;
    if (f.type === 'text' || f.type === 'email' || f.type === 'url') names.add(f.name);
  }
  return [...names];
}

function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(plain).filter(Boolean).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A record's presentable text (its presentable fields, else the id). */
export function recordLabel(collection: Collection | undefined, record: RecordData): string {
  const parts = presentableFields(collection)
    .map((f) => plain(record[f.name]))
    .filter((s) => s.trim() !== '');
  return parts.length ? parts.join(' · ') : record.id;
}

/** Field names of the relation fields among `names`, for `expand`. */
export function relationNames(collection: Collection, names: string[]): string[] {
  const wanted = new Set(names);
  return collection.fields.filter((f) => f.type === 'relation' && wanted.has(f.name)).map((f) => f.name);
}

export function fieldByName(collection: Collection, name: string): Field | undefined {
  return collection.fields.find((f) => f.name === name);
}
