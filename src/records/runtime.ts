import { buildModel, decodeValue, VERSION_COLUMN, type ColumnSpec, type DialectName } from '../db/index.js';
import { parseFilter, type ExprItem } from '../filter/index.js';
import { fieldAccess, ident, queryDialect, type QueryDialect, type Sql } from '../query/index.js';
import { fieldType, type Collection, type Field, type RuleKey, type Schema } from '../schema/index.js';
import { compileInputResolver, type InputResolver } from './input.js';
import { compileStages, WRITE_ACTIONS, type CompiledStages, type WriteAction, type WritePlugin } from './plugins.js';
import type { ErrorReporter } from './session.js';
import type { ApiRecord } from './types.js';
import { compileValidator, type RecordValidator } from './validate.js';

/** A multiple relation's junction table, loaded as a JSON array column in the select list. */
interface JunctionField {
  field: Field;
  table: string;
}

/** A relation field of some collection that points at this one: what a delete must cascade to. */
export interface Reference {
  source: CollectionRuntime;
  field: Field;
  /** The junction table of a multiple relation; null for a single relation (an FK column). */
  junction: string | null;
}

/**
 * Everything about one collection the records API needs per request, built once
 * when the collections load (and again on a --dev reload): SQL text, validators,
 * the input resolver, parsed rules and the row decoder.
 */
export interface CollectionRuntime {
  collection: Collection;
  /** Quoted table (or view) name. */
  table: string;
  /** `r."id", r."title", ... AS "tags"` for SELECTs over alias `r`. */
  selectList: string;
  columns: ColumnSpec[];
  junctions: JunctionField[];
  hasVersion: boolean;
  resolveInput: InputResolver;
  validate: RecordValidator;
  /** Parsed rules; `null` = locked (superusers only), `[]` = everyone. */
  rules: Partial<Record<RuleKey | 'manageRule' | 'authRule', ExprItem[] | null>>;
  /** The write pipeline's plugin stages per action (hooks, files, realtime), compiled at load. */
  stages: Record<WriteAction, CompiledStages>;
  /** Relation fields (of any collection, views excepted) that point at this collection. */
  references: Reference[];
  decode(row: Record<string, unknown>): ApiRecord;
}

export interface RecordsRuntime {
  schema: Schema;
  dialect: QueryDialect;
  dialectName: DialectName;
  byId: Map<string, CollectionRuntime>;
  /** Collection by id (exact) or name (case-insensitive), as the routes look it up. */
  find(nameOrId: string): CollectionRuntime | undefined;
  /** Parsed rule text, cached (rules are parsed once at load). */
  parseRule(collection: Collection, rule: string): ExprItem[];
  /** Parsed client filters, the last 500 distinct texts (as PocketBase caches them). */
  clientFilters: Map<string, ExprItem[]>;
  /** Compiled rules, filters and sorts that cannot depend on the request (access.ts compiledOnce). */
  compiled: Map<string, Sql | null>;
  /** Where after-commit and undo work report their errors (they never change a response). */
  report: ErrorReporter;
}

export interface RuntimeOptions {
  /** The parts that plug into the write pipeline, in stage order (hooks, files, realtime). */
  plugins?: readonly WritePlugin[];
  report?: ErrorReporter;
}

export function buildRuntime(schema: Schema, dialectName: DialectName, options: RuntimeOptions = {}): RecordsRuntime {
  const model = buildModel(schema);
  const tables = new Map(model.tables.map((t) => [t.collectionId, t]));
  const byId = new Map<string, CollectionRuntime>();
  const byName = new Map<string, CollectionRuntime>();
  const d = queryDialect(dialectName);
  const ruleCache = new Map<string, ExprItem[]>();
  const parseRule = (_c: Collection, rule: string): ExprItem[] => {
    let parsed = ruleCache.get(rule);
    if (!parsed) ruleCache.set(rule, (parsed = parseFilter(rule)));
    return parsed;
  };
  for (const collection of schema.collections) {
    const table = tables.get(collection.id);
    const columns = table ? table.columns.filter((c) => c.name !== VERSION_COLUMN) : viewColumns(collection);
    const junctions = collection.fields.flatMap((field) => {
      const access = fieldAccess(collection, field);
      return access.kind === 'junction' ? [{ field, table: access.table }] : [];
    });
    const rt = runtimeFor(collection, columns, junctions, Boolean(table), d, dialectName, parseRule);
    for (const action of WRITE_ACTIONS) rt.stages[action] = compileStages(options.plugins ?? [], collection, action);
    byId.set(collection.id, rt);
    byName.set(collection.name.toLowerCase(), rt);
  }
  linkReferences(byId);
  return {
    schema,
    dialect: d,
    dialectName,
    byId,
    find: (nameOrId) => byId.get(nameOrId) ?? byName.get(nameOrId.toLowerCase()),
    parseRule,
    clientFilters: new Map(),
    compiled: new Map(),
    report: options.report ?? (() => {}),
  };
}

/** Fills each collection's `references`: the relation fields of other (non-view) collections pointing at it. */
function linkReferences(byId: Map<string, CollectionRuntime>): void {
  for (const source of byId.values()) {
    if (source.collection.type === 'view') continue;
    for (const field of source.collection.fields) {
      if (field.type !== 'relation') continue;
      const target = byId.get(String(field['collectionId']));
      if (!target) continue;
      const junction = source.junctions.find((j) => j.field === field)?.table ?? null;
      target.references.push({ source, field, junction });
    }
  }
}

function runtimeFor(
  collection: Collection,
  columns: ColumnSpec[],
  junctions: JunctionField[],
  hasVersion: boolean,
  d: QueryDialect,
  dialectName: DialectName,
  parseRule: (c: Collection, rule: string) => ExprItem[],
): CollectionRuntime {
  const select = [
    ...columns.map((c) => `r.${ident(c.name)}`),
    ...junctions.map((j) => `${d.aggregateJsonText('"target_id"', { text: `${ident(j.table)} WHERE "owner_id" = r."id"`, values: [] }, '"position"').text} AS ${ident(j.field.name)}`),
    ...(hasVersion ? [`r.${ident(VERSION_COLUMN)}`] : []),
  ];
  const rules: CollectionRuntime['rules'] = {};
  for (const key of ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'manageRule', 'authRule'] as const) {
    const rule = collection[key];
    if (rule === undefined) continue;
    rules[key] = rule === null ? null : rule.trim() === '' ? [] : parseRule(collection, rule);
  }
  const decoders = columns.map((c) => [c.name, c.fieldType === 'geoPoint' ? (raw: unknown) => geoPoint(decodeValue(c, raw, dialectName)) : (raw: unknown) => decodeValue(c, raw, dialectName)] as const);
  const junctionNames = junctions.map((j) => j.field.name);
  return {
    collection,
    table: ident(collection.name),
    selectList: select.join(', '),
    columns,
    junctions,
    hasVersion,
    resolveInput: onFirstCall(() => compileInputResolver(collection)),
    validate: onFirstCall(() => compileValidator(collection)),
    rules,
    stages: {} as CollectionRuntime['stages'],
    references: [],
    decode(row) {
      const record: ApiRecord = {};
      for (const [name, decode] of decoders) record[name] = decode(row[name]);
      for (const name of junctionNames) {
        const raw = row[name];
        record[name] = typeof raw === 'string' ? JSON.parse(raw) : Array.isArray(raw) ? raw : [];
      }
      return record;
    },
  };
}

/**
 * A function compiled on its first call. The input resolver and the validator serve writes only;
 * compiled for every collection at load they were ~0.3 s of a 200-collection start (CPU profile),
 * twice (createApp, then activateSchema). A collection's first write pays its own ~1 ms.
 */
function onFirstCall<F extends (...args: never[]) => unknown>(compile: () => F): F {
  let compiled: F | undefined;
  return ((...args: Parameters<F>) => (compiled ??= compile())(...args)) as F;
}

/** A view's columns, typed by its fields so both engines return the same JSON (bools, counts, dates). */
function viewColumns(collection: Collection): ColumnSpec[] {
  return collection.fields.map((field) => {
    const storage = fieldType(field.type).storage(field);
    const kind = storage.kind === 'column' ? (storage.column === 'ref' ? 'text' : storage.column) : 'json';
    const zero = fieldType(field.type).zero(field);
    return { name: field.name, kind, fieldId: field.id, fieldType: field.type, primaryKey: field.name === 'id', nullable: true, zero };
  });
}

/** PocketBase writes `{lon, lat}` in that order; PostgreSQL's jsonb sorts keys. */
function geoPoint(value: unknown): unknown {
  const v = (value ?? {}) as { lon?: unknown; lat?: unknown };
  return { lon: v.lon ?? 0, lat: v.lat ?? 0 };
}

/** The version of a row, for its ETag. */
export function versionOf(row: Record<string, unknown>): string | null {
  const v = row[VERSION_COLUMN];
  return v === undefined || v === null ? null : String(Number(v));
}

