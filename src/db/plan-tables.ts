import { q } from './dialects/index.js';
import type { ColumnChange, LiveColumn, LiveTable } from './dialects/index.js';
import type { ColumnSpec, TableSpec } from './model.js';
import { countRows, kindFromSqlType, liveTable, previousColumn, previousJunction, previousTable, type PlanContext } from './plan-context.js';
import { maxRisk, type Risk } from './plan-types.js';
import { conversionRisk } from './risk.js';

/** Renames the table of a collection whose name changed (same collection id). */
export function planTableRename(ctx: PlanContext, table: TableSpec): void {
  const prev = previousTable(ctx, table.collectionId);
  if (!liveTable(ctx, table.name) && prev && prev.name !== table.name && liveTable(ctx, prev.name)) renameTable(ctx, prev, table);
}

/** Creates the table of a new collection; returns false when it already exists. */
export function planTableCreate(ctx: PlanContext, table: TableSpec): boolean {
  if (liveTable(ctx, table.name)) return false;
  if (previousTable(ctx, table.collectionId)) ctx.drift.push(`table "${table.name}" is missing from the database; it will be created again`);
  ctx.steps.push({ kind: 'create_table', risk: 'safe', target: table.name, summary: `create table ${table.name}`, sql: ctx.dialect.createTable(table) });
  return true;
}

/** Diffs the columns of an existing table against the wanted ones. */
export async function planTableColumns(ctx: PlanContext, table: TableSpec): Promise<void> {
  const live = liveTable(ctx, table.name);
  if (live) await planColumns(ctx, table, live, previousTable(ctx, table.collectionId));
}

function renameTable(ctx: PlanContext, prev: TableSpec, table: TableSpec): void {
  const sql = [`ALTER TABLE ${q(prev.name)} RENAME TO ${q(table.name)}`];
  ctx.live.tables.set(table.name, { ...ctx.live.tables.get(prev.name)!, name: table.name });
  ctx.live.tables.delete(prev.name);
  ctx.steps.push({ kind: 'rename_table', risk: 'safe', target: table.name, summary: `rename table ${prev.name} to ${table.name}`, sql });
}

interface ColumnPlan {
  changes: ColumnChange[];
  risks: Risk[];
  losses: string[];
  /** New column → SQL expression over the current table (for SQLite's rebuild). */
  sources: Map<string, string>;
  /** Columns renamed earlier in this plan: new name → name the database still has while planning. */
  renamedFrom: Map<string, string>;
}

async function planColumns(ctx: PlanContext, table: TableSpec, live: LiveTable, prev: TableSpec | undefined): Promise<void> {
  const plan: ColumnPlan = { changes: [], risks: [], losses: [], sources: new Map(), renamedFrom: new Map() };
  const claimed = new Set<string>();
  for (const column of table.columns) {
    const liveName = resolveLiveName(ctx, table, live, prev, column, plan);
    if (liveName === null) {
      await addColumn(ctx, table, prev, column);
      continue;
    }
    claimed.add(liveName);
    await diffColumn(ctx, table, live, prev, column, plan);
  }
  for (const liveCol of live.columns.filter((c) => !claimed.has(c.name))) {
    await dropOrReport(ctx, table, prev, liveCol.name, plan);
  }
  emitColumnChanges(ctx, table, live, plan);
}

/** Finds the live column a wanted column corresponds to, renaming it when the field was renamed. */
function resolveLiveName(ctx: PlanContext, table: TableSpec, live: LiveTable, prev: TableSpec | undefined, column: ColumnSpec, plan: ColumnPlan): string | null {
  if (live.columns.some((c) => c.name === column.name)) return column.name;
  const oldName = previousColumn(prev, column.fieldId)?.name ?? column.previousName;
  const liveCol = oldName ? live.columns.find((c) => c.name === oldName) : undefined;
  if (!liveCol) return null;
  ctx.steps.push({
    kind: 'rename_column',
    risk: 'safe',
    target: `${table.name}.${column.name}`,
    summary: `rename column ${table.name}.${liveCol.name} to ${column.name}`,
    sql: [`ALTER TABLE ${q(table.name)} RENAME COLUMN ${q(liveCol.name)} TO ${q(column.name)}`],
  });
  plan.renamedFrom.set(column.name, liveCol.name);
  liveCol.name = column.name;
  return column.name;
}

async function addColumn(ctx: PlanContext, table: TableSpec, prev: TableSpec | undefined, column: ColumnSpec): Promise<void> {
  ctx.steps.push({
    kind: 'add_column',
    risk: 'safe',
    target: `${table.name}.${column.name}`,
    summary: `add column ${table.name}.${column.name} (${column.fieldType})`,
    sql: ctx.dialect.addColumn(table.name, column),
  });
  const junction = previousJunction(prev, column.fieldId);
  if (!junction || !ctx.live.tables.has(junction.name)) return;
  // A multiple relation became single: keep the first id of each record, lose the rest.
  const extra = await countRows(ctx, `SELECT COUNT(*) AS n FROM ${q(junction.name)} WHERE ${q('position')} > 0`);
  const first = `(SELECT ${q('target_id')} FROM ${q(junction.name)} j WHERE j.${q('owner_id')} = ${q(table.name)}.${q('id')} ORDER BY j.${q('position')} LIMIT 1)`;
  ctx.steps.push({
    kind: 'change_columns',
    risk: extra > 0 ? 'destructive' : 'rewrite',
    target: `${table.name}.${column.name}`,
    summary: `copy the first id of multiple relation ${table.name}.${column.name} into its new single column`,
    sql: [`UPDATE ${q(table.name)} SET ${q(column.name)} = ${first}`],
    ...(extra > 0 ? { loss: `${extra} relation ids beyond the first` } : {}),
  });
}

async function diffColumn(ctx: PlanContext, table: TableSpec, live: LiveTable, prev: TableSpec | undefined, column: ColumnSpec, plan: ColumnPlan): Promise<void> {
  const liveCol = live.columns.find((c) => c.name === column.name)!;
  // A type change gives a field without an explicit id a new id: the same-named column of the last snapshot is its past.
  const renamedFrom = plan.renamedFrom.get(column.name);
  const prevCol =
    previousColumn(prev, column.fieldId) ??
    (renamedFrom ? prev?.columns.find((c) => c.name === renamedFrom) : undefined) ??
    sameNamedColumn(table, prev, column.name);
  const expr = q(column.name);
  plan.sources.set(column.name, expr);
  if (prevCol && liveCol.type !== ctx.dialect.sqlType(prevCol.kind)) {
    ctx.drift.push(`column "${table.name}.${column.name}" has type ${liveCol.type}, Galley created it as ${ctx.dialect.sqlType(prevCol.kind)}; left as it is`);
    return;
  }
  const fromKind = prevCol?.kind ?? kindFromSqlType(ctx.dialect, liveCol.type, Boolean(liveCol.ref));
  if (fromKind !== column.kind) {
    const risk = conversionRisk(fromKind, column.kind);
    const converted = ctx.dialect.convert(expr, fromKind, column);
    plan.changes.push({ kind: 'retype', column, expr: converted });
    plan.sources.set(column.name, converted);
    plan.risks.push(risk);
    // Counted before any step runs: a column renamed in this plan still has its old name.
    if (risk === 'destructive') plan.losses.push(await valuesIn(ctx, table.name, renamedFrom ?? column.name, fromKind, prevCol?.zero ?? null, `converted from ${fromKind} to ${column.kind}`));
    return;
  }
  planCollation(ctx, `${table.name}.${column.name}`, liveCol, column, plan.changes, plan.risks);
  const wantRef = column.ref;
  const liveRef = liveCol.ref;
  if (wantRef && (!liveRef || liveRef.onDelete !== wantRef.onDelete || liveRef.table.toLowerCase() !== wantRef.table.toLowerCase())) {
    plan.changes.push({ kind: 'reref', column });
    plan.risks.push('rewrite');
  }
}

/**
 * A text column an older Galley created with the database's default collation gets Galley's
 * (PostgreSQL `COLLATE "C"`): values stay, its indexes are rebuilt. Any other collation was set by
 * hand: drift, reported and left.
 */
export function planCollation(ctx: PlanContext, name: string, liveCol: LiveColumn, column: ColumnSpec, changes: ColumnChange[], risks: Risk[]): void {
  const wanted = ctx.dialect.collation(column.kind);
  if (wanted === null || liveCol.collation === wanted) return;
  if (liveCol.collation !== null) {
    ctx.drift.push(`column "${name}" has collation ${liveCol.collation}, Galley creates it with ${wanted}; left as it is`);
    return;
  }
  changes.push({ kind: 'collate', column });
  risks.push('rewrite');
}

function sameNamedColumn(table: TableSpec, prev: TableSpec | undefined, name: string): ColumnSpec | undefined {
  const col = prev?.columns.find((c) => c.name === name);
  return col && !table.columns.some((c) => c.fieldId === col.fieldId) ? col : undefined;
}

async function dropOrReport(ctx: PlanContext, table: TableSpec, prev: TableSpec | undefined, name: string, plan: ColumnPlan): Promise<void> {
  const prevCol = prev?.columns.find((c) => c.name === name);
  if (!prevCol) {
    ctx.drift.push(`column "${table.name}.${name}" is not in the collection files and was not created by Galley; left as it is`);
    plan.sources.set(name, q(name));
    return;
  }
  const nowJunction = table.junctions.find((j) => j.fieldId === prevCol.fieldId);
  plan.changes.push({ kind: 'drop', column: name });
  if (nowJunction) {
    plan.risks.push('rewrite'); // the ids move to the junction table first (planJunctions)
    return;
  }
  plan.risks.push('destructive');
  plan.losses.push(await valuesIn(ctx, table.name, name, prevCol.kind, prevCol.zero, 'dropped'));
}

async function valuesIn(ctx: PlanContext, table: string, column: string, kind: ColumnSpec['kind'], zero: unknown, what: string): Promise<string> {
  const notZero = zero === null ? `${q(column)} IS NOT NULL` : `${q(column)} <> ${ctx.dialect.literal(kind, zero)}`;
  const n = await countRows(ctx, `SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${notZero}`);
  return `${n} non-empty value${n === 1 ? '' : 's'} in ${table}.${column} (${what})`;
}

export function describeChange(c: ColumnChange): string {
  switch (c.kind) {
    case 'drop':
      return `drop ${c.column}`;
    case 'retype':
      return `change type of ${c.column.name} to ${c.column.fieldType}`;
    case 'reref':
      return `change relation rules of ${c.column.name}`;
    case 'collate':
      return `compare ${c.column.name} by code point`;
  }
}

function emitColumnChanges(ctx: PlanContext, table: TableSpec, live: LiveTable, plan: ColumnPlan): void {
  if (plan.changes.length === 0) return;
  const risk = maxRisk(plan.risks);
  const described = plan.changes.map(describeChange);
  if (ctx.dialect.name === 'sqlite') ctx.rebuilt.add(table.name);
  ctx.steps.push({
    kind: 'change_columns',
    risk,
    target: table.name,
    summary: `${ctx.dialect.name === 'sqlite' ? 'rebuild' : 'alter'} table ${table.name}: ${described.join(', ')}`,
    sql: ctx.dialect.changeColumns(table, live, plan.sources, plan.changes),
    ...(plan.losses.length ? { loss: plan.losses.join('; ') } : {}),
  });
}
