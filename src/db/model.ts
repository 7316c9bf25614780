import { crc32, fieldType, isMultiple, parseIndex, type Collection, type ColumnKind, type Field, type IndexDef, type Schema } from '../schema/index.js';

/**
 * The physical shape Galley wants in the database, derived from the collections
 * and independent of the engine. Dialects render it to SQL; the planner diffs it.
 */
export type OnDelete = 'CASCADE' | 'SET NULL' | 'RESTRICT';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  fieldId: string;
  fieldType: string;
  primaryKey: boolean;
  /** From the file's `previousName`: the column to rename instead of adding a new one. */
  previousName?: string;
  nullable: boolean;
  /** The zero value new rows get, as a JSON-able value (rendered per dialect). */
  zero: unknown;
  ref?: { table: string; onDelete: OnDelete };
}

export interface JunctionSpec {
  name: string;
  fieldId: string;
  fieldName: string;
  previousName?: string;
  owner: string;
  target: string;
  cascadeDelete: boolean;
  required: boolean;
}

export interface IndexSpec {
  def: IndexDef;
  /** The definition as written in the collection file, to notice edits. */
  source: string;
}

export interface TableSpec {
  name: string;
  collectionId: string;
  columns: ColumnSpec[];
  junctions: JunctionSpec[];
  indexes: IndexSpec[];
}

export interface ViewSpec {
  name: string;
  collectionId: string;
  query: string;
}

export interface PhysicalModel {
  tables: TableSpec[];
  views: ViewSpec[];
}

const PG_IDENT_MAX = 63;

/** Junction tables live under Galley's reserved prefix; long names keep a hash so they stay unique in PostgreSQL. */
export function junctionName(collection: string, field: string): string {
  const name = `_galley_rel_${collection}__${field}`;
  return name.length <= PG_IDENT_MAX ? name : `${name.slice(0, PG_IDENT_MAX - 9)}_${crc32(name).toString(36).padStart(8, '0')}`;
}

export function buildModel(schema: Schema): PhysicalModel {
  const byId = schema.byId;
  const tables = schema.collections.filter((c) => c.type !== 'view').map((c) => tableFor(c, (id) => byId.get(id)));
  const views = schema.collections
    .filter((c) => c.type === 'view')
    .map((c) => ({ name: c.name, collectionId: c.id, query: c.viewQuery ?? '' }));
  return { tables, views };
}

function tableFor(c: Collection, resolve: (id: string) => Collection | undefined): TableSpec {
  const columns: ColumnSpec[] = [];
  const junctions: JunctionSpec[] = [];
  const multiRelations = new Set<string>();
  for (const field of c.fields) {
    const storage = fieldType(field.type).storage(field);
    if (storage.kind === 'junction') {
      multiRelations.add(field.name.toLowerCase());
      junctions.push({
        name: junctionName(c.name, field.name),
        fieldId: field.id,
        fieldName: field.name,
        owner: c.name,
        target: targetName(field, resolve),
        cascadeDelete: Boolean(field['cascadeDelete']),
        required: field.required,
        ...(field.previousName ? { previousName: field.previousName } : {}),
      });
    } else {
      columns.push(columnFor(field, storage.column, resolve));
    }
  }
  columns.push(versionColumn());
  const indexes = c.indexes
    .map((source) => ({ source, def: withoutJunctionColumns(parseIndex(source), multiRelations) }))
    .filter((spec): spec is IndexSpec => spec.def !== null);
  return { name: c.name, collectionId: c.id, columns, junctions, indexes };
}

function columnFor(field: Field, kind: ColumnKind, resolve: (id: string) => Collection | undefined): ColumnSpec {
  const zero = fieldType(field.type).zero(field);
  const spec: ColumnSpec = {
    name: field.name,
    kind,
    fieldId: field.id,
    fieldType: field.type,
    primaryKey: field.name === 'id',
    // A single relation holds NULL when empty, so that it can be a real foreign key.
    nullable: kind === 'ref' || zero === null,
    zero: kind === 'ref' ? null : zero,
  };
  if (field.previousName) spec.previousName = field.previousName;
  if (kind === 'ref') spec.ref = { table: targetName(field, resolve), onDelete: onDeleteFor(field) };
  return spec;
}

/**
 * Galley's record version, behind the ETag: random on insert (so a re-created id
 * never repeats an old ETag), incremented by every update.
 */
export const VERSION_COLUMN = '_galley_version';

function versionColumn(): ColumnSpec {
  return { name: VERSION_COLUMN, kind: 'number', fieldId: VERSION_COLUMN, fieldType: 'number', primaryKey: false, nullable: false, zero: 0 };
}

function onDeleteFor(field: Field): OnDelete {
  if (field['cascadeDelete']) return 'CASCADE';
  return field.required ? 'RESTRICT' : 'SET NULL';
}

function targetName(field: Field, resolve: (id: string) => Collection | undefined): string {
  const target = resolve(String(field['collectionId']));
  if (!target) throw new Error(`relation "${field.name}" targets unknown collection ${String(field['collectionId'])}`);
  return target.name;
}

/**
 * A multiple relation has no column: an index over it is served by the junction
 * table's own indexes, so those columns drop out (and an index left empty goes).
 */
function withoutJunctionColumns(def: IndexDef, junctionFields: Set<string>): IndexDef | null {
  const columns = def.columns.filter((col) => !junctionFields.has(col.name.toLowerCase()));
  if (columns.length === def.columns.length) return def;
  if (columns.length === 0 || def.unique) return null;
  return { ...def, columns };
}

export { isMultiple };
