import { q, type ColumnChange } from './dialects/index.js';
import { junctionName, type ColumnSpec, type JunctionSpec, type TableSpec } from './model.js';
import { countRows, liveTable, previousColumn, previousJunction, previousTable, type PlanContext } from './plan-context.js';
import { describeChange, planCollation } from './plan-tables.js';
import { maxRisk, type Risk } from './plan-types.js';

/** Creates (or renames) the junction tables of multiple relations; a single relation turned multiple moves its ids over. */
export function planJunctions(ctx: PlanContext, table: TableSpec): void {
  const prev = previousTable(ctx, table.collectionId);
  for (const junction of table.junctions) {
    if (ctx.live.tables.has(junction.name)) {
      planJunctionCollation(ctx, junction);
      continue;
    }
    const oldName = previousJunction(prev, junction.fieldId)?.name ?? (junction.previousName ? junctionName(table.name, junction.previousName) : undefined);
    if (oldName && ctx.live.tables.has(oldName)) {
      ctx.steps.push({ kind: 'rename_table', risk: 'safe', target: junction.name, summary: `rename junction table ${oldName} to ${junction.name}`, sql: [`ALTER TABLE ${q(oldName)} RENAME TO ${q(junction.name)}`] });
      ctx.live.tables.set(junction.name, { ...ctx.live.tables.get(oldName)!, name: junction.name });
      ctx.live.tables.delete(oldName);
      continue;
    }
    createJunction(ctx, table, junction, prev);
  }
}

/** The id columns of a junction table made by an older Galley get Galley's collation (see planCollation). */
function planJunctionCollation(ctx: PlanContext, junction: JunctionSpec): void {
  const live = ctx.live.tables.get(junction.name)!;
  const changes: ColumnChange[] = [];
  const risks: Risk[] = [];
  for (const name of ['owner_id', 'target_id']) {
    const liveCol = live.columns.find((c) => c.name === name);
    if (liveCol) planCollation(ctx, `${junction.name}.${name}`, liveCol, junctionColumn(name), changes, risks);
  }
  if (changes.length === 0) return;
  const table: TableSpec = { name: junction.name, collectionId: '', columns: [], junctions: [], indexes: [] };
  ctx.steps.push({
    kind: 'change_columns',
    risk: maxRisk(risks),
    target: junction.name,
    summary: `alter junction table ${junction.name}: ${changes.map(describeChange).join(', ')}`,
    sql: ctx.dialect.changeColumns(table, live, new Map(), changes),
  });
}

function junctionColumn(name: string): ColumnSpec {
  return { name, kind: 'ref', fieldId: name, fieldType: 'relation', primaryKey: false, nullable: false, zero: null };
}

function createJunction(ctx: PlanContext, table: TableSpec, junction: JunctionSpec, prev: TableSpec | undefined): void {
  const wasSingle = previousColumn(prev, junction.fieldId);
  const live = liveTable(ctx, table.name);
  const oldColumn = wasSingle && live?.columns.some((c) => c.name === wasSingle.name) ? wasSingle.name : null;
  const sql = ctx.dialect.createJunction(junction);
  if (oldColumn) {
    sql.push(
      `INSERT INTO ${q(junction.name)} (${q('owner_id')}, ${q('target_id')}, ${q('position')}) ` +
        `SELECT ${q('id')}, ${q(oldColumn)}, 0 FROM ${q(table.name)} WHERE ${q(oldColumn)} IS NOT NULL AND ${q(oldColumn)} <> ''`,
    );
  }
  ctx.steps.push({
    kind: 'create_junction',
    risk: oldColumn ? 'rewrite' : 'safe',
    target: junction.name,
    summary: oldColumn
      ? `make relation ${table.name}.${junction.fieldName} multiple: move its ids into junction table ${junction.name}`
      : `create junction table ${junction.name} for multiple relation ${table.name}.${junction.fieldName}`,
    sql,
  });
}

/** Drops junction tables of relations that are gone (or became single; their first ids were copied already). */
export async function planJunctionDrops(ctx: PlanContext): Promise<void> {
  const wanted = new Set(ctx.desired.tables.flatMap((t) => t.junctions.map((j) => j.name)));
  for (const table of ctx.previous?.tables ?? []) {
    for (const junction of table.junctions) {
      if (wanted.has(junction.name) || !ctx.live.tables.has(junction.name)) continue;
      const stillField = ctx.desired.tables.find((t) => t.collectionId === table.collectionId)?.columns.some((c) => c.fieldId === junction.fieldId);
      const rows = await countRows(ctx, `SELECT COUNT(*) AS n FROM ${q(junction.name)}`);
      const lossy = !stillField && rows > 0;
      ctx.steps.push({
        kind: 'drop_junction',
        risk: lossy ? 'destructive' : 'rewrite',
        target: junction.name,
        summary: `drop junction table ${junction.name}`,
        sql: [`DROP TABLE ${q(junction.name)}`],
        ...(lossy ? { loss: `${rows} relation ids of ${table.name}.${junction.fieldName}` } : {}),
      });
    }
  }
}
