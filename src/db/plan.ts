import type { Collection, Schema } from '../schema/index.js';
import type { Dialect, LiveModel } from './dialects/index.js';
import type { Executor } from './executor.js';
import { buildModel } from './model.js';
import type { PlanContext } from './plan-context.js';
import { planJunctionDrops, planJunctions } from './plan-junctions.js';
import { planForeignKeys, planIndexes, planTableDrops, planTriggers, planViews } from './plan-objects.js';
import { planTableColumns, planTableCreate, planTableRename } from './plan-tables.js';
import type { Plan } from './plan-types.js';

/**
 * Diffs the live database against the collections and returns the ordered steps
 * to get there. `previous` is the snapshot recorded by the last migration: it
 * gives fields and collections their identity (renames) and exposes drift. `live` is the
 * introspected database when the caller has read it already.
 */
export async function planMigration(exec: Executor, dialect: Dialect, schema: Schema, previous: Collection[] | null, live?: LiveModel): Promise<Plan> {
  const desired = buildModel(schema);
  const ctx: PlanContext = {
    exec,
    dialect,
    live: live ?? (await dialect.introspect(exec)),
    previous: previous ? buildModel(schemaOf(previous)) : null,
    desired,
    steps: [],
    drift: [],
    notes: [],
    rebuilt: new Set(),
  };
  for (const table of desired.tables) planTableRename(ctx, table);
  const created = desired.tables.filter((table) => planTableCreate(ctx, table));
  for (const table of desired.tables) planJunctions(ctx, table);
  for (const table of desired.tables.filter((t) => !created.includes(t))) await planTableColumns(ctx, table);
  await planJunctionDrops(ctx);
  planForeignKeys(ctx, created);
  await planTableDrops(ctx);
  await planIndexes(ctx);
  planTriggers(ctx);
  const views = await planViews(ctx, 0);
  return { steps: [...views.drops, ...ctx.steps, ...views.creates], drift: ctx.drift, notes: ctx.notes, checksum: schema.checksum };
}

/** A snapshot is a list of collections; the model builder needs them indexed. */
function schemaOf(collections: Collection[]): Schema {
  return {
    collections,
    byName: new Map(collections.map((c) => [c.name.toLowerCase(), c])),
    byId: new Map(collections.map((c) => [c.id, c])),
    sources: new Map(),
    warnings: [],
    checksum: '',
  };
}
