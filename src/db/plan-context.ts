import type { ColumnKind } from '../schema/index.js';
import type { Dialect, LiveModel, LiveTable } from './dialects/index.js';
import type { Executor } from './executor.js';
import type { ColumnSpec, JunctionSpec, PhysicalModel, TableSpec } from './model.js';
import type { PlanStep } from './plan-types.js';

/** What the planner works from: the live database, the last applied model and the wanted one. */
export interface PlanContext {
  exec: Executor;
  dialect: Dialect;
  live: LiveModel;
  previous: PhysicalModel | null;
  desired: PhysicalModel;
  steps: PlanStep[];
  drift: string[];
  notes: string[];
  /** Tables SQLite rebuilds: their indexes and triggers must be created again. */
  rebuilt: Set<string>;
}

export function previousTable(ctx: PlanContext, collectionId: string): TableSpec | undefined {
  return ctx.previous?.tables.find((t) => t.collectionId === collectionId);
}

export function liveTable(ctx: PlanContext, name: string): LiveTable | undefined {
  return ctx.live.tables.get(name);
}

export function previousColumn(prev: TableSpec | undefined, fieldId: string): ColumnSpec | undefined {
  return prev?.columns.find((c) => c.fieldId === fieldId);
}

export function previousJunction(prev: TableSpec | undefined, fieldId: string): JunctionSpec | undefined {
  return prev?.junctions.find((j) => j.fieldId === fieldId);
}

/** Best guess of a live column's kind when Galley has no record of it. */
export function kindFromSqlType(dialect: Dialect, type: string, hasRef: boolean): ColumnKind {
  if (hasRef) return 'ref';
  const kinds: ColumnKind[] = ['text', 'number', 'bool', 'json', 'date'];
  return kinds.find((k) => dialect.sqlType(k) === type) ?? 'text';
}

export async function countRows(ctx: PlanContext, sql: string): Promise<number> {
  const rows = await ctx.exec.all(sql);
  return Number(Object.values(rows[0] ?? {})[0] ?? 0);
}
