import { q, triggerName, type TriggerSpec } from './dialects/index.js';
import type { IndexSpec, TableSpec } from './model.js';
import { countRows, liveTable, previousTable, type PlanContext } from './plan-context.js';
import { viewQueryTables } from '../schema/index.js';
import { renderViewQuery } from './view-sql.js';

/** Creates wanted indexes that are missing or changed, and drops the ones removed from the files. */
export async function planIndexes(ctx: PlanContext): Promise<void> {
  const wanted = new Map(ctx.desired.tables.flatMap((t) => t.indexes.map((i) => [i.def.name, { table: t, index: i }] as const)));
  const previousSource = new Map((ctx.previous?.tables ?? []).flatMap((t) => t.indexes.map((i) => [i.def.name, i.source] as const)));
  for (const [name, table] of ctx.live.indexes) {
    if (!previousSource.has(name)) continue; // not Galley's (autoindexes, primary keys, junction indexes, hand-made)
    const want = wanted.get(name);
    if (want && want.index.source === previousSource.get(name) && !ctx.rebuilt.has(table) && want.table.name === table) continue;
    if (!ctx.rebuilt.has(table) || !want) ctx.steps.push({ kind: 'drop_index', risk: 'safe', target: name, summary: `drop index ${name}`, sql: [`DROP INDEX IF EXISTS ${q(name)}`] });
    ctx.live.indexes.delete(name);
  }
  for (const { table, index } of wanted.values()) {
    if (ctx.live.indexes.has(index.def.name) && !ctx.rebuilt.has(table.name)) continue;
    await createIndex(ctx, table, index);
  }
}

async function createIndex(ctx: PlanContext, table: TableSpec, index: IndexSpec): Promise<void> {
  const duplicates = index.def.unique && liveTable(ctx, table.name) ? await findDuplicates(ctx, table, index) : null;
  ctx.steps.push({
    kind: 'create_index',
    risk: duplicates ? 'destructive' : 'safe',
    target: index.def.name,
    summary: `create ${index.def.unique ? 'unique ' : ''}index ${index.def.name} on ${table.name} (${index.def.columns.map((c) => c.name).join(', ')})`,
    sql: [ctx.dialect.createIndex(index.def, table.name)],
    ...(duplicates ? { loss: `nothing until the duplicates are resolved: ${duplicates}` } : {}),
  });
}

/** Names up to five duplicate values a new unique index would reject. */
async function findDuplicates(ctx: PlanContext, table: TableSpec, index: IndexSpec): Promise<string | null> {
  const cols = index.def.columns.map((c) => (c.collate === 'NOCASE' ? `lower(${q(c.name)})` : q(c.name)));
  const where = index.def.where ? ` WHERE ${ctx.dialect.createIndex(index.def, table.name).split(' WHERE ')[1]}` : '';
  const rows = await ctx.exec.all(
    `SELECT ${cols.map((c, i) => `${c} AS v${i}`).join(', ')}, COUNT(*) AS n FROM ${q(table.name)}${where} GROUP BY ${cols.join(', ')} HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC LIMIT 5`,
  );
  if (rows.length === 0) return null;
  return rows.map((r) => `(${cols.map((_, i) => JSON.stringify(r[`v${i}`])).join(', ')}) ×${String(r['n'])}`).join(', ');
}

/** Keeps one trigger per multiple relation that cascades or is required. */
export function planTriggers(ctx: PlanContext): void {
  const wanted = new Map<string, TriggerSpec>();
  for (const junction of ctx.desired.tables.flatMap((t) => t.junctions)) {
    if (!junction.cascadeDelete && !junction.required) continue;
    // `ce`: cascade when the owner is left empty (PocketBase); an older `_c` trigger deleted every
    // owner holding the id, so its different name makes existing databases replace it.
    const name = junction.cascadeDelete ? `${triggerName(junction).slice(0, 60)}_ce` : `${triggerName(junction)}_r`.slice(0, 63);
    wanted.set(name, { name, junction });
  }
  for (const name of ctx.live.triggers) {
    if (!name.startsWith('_galley_trg_') || wanted.has(name)) continue;
    const table = (ctx.previous?.tables ?? []).flatMap((t) => t.junctions).find((j) => name.startsWith(triggerName(j)))?.target ?? '';
    ctx.steps.push({ kind: 'drop_trigger', risk: 'safe', target: name, summary: `drop trigger ${name}`, sql: ctx.dialect.dropTrigger(name, table) });
  }
  for (const trigger of wanted.values()) {
    const lost = ctx.rebuilt.has(trigger.junction.target);
    if (ctx.live.triggers.has(trigger.name) && !lost) continue;
    if (ctx.live.triggers.has(trigger.name)) ctx.steps.push({ kind: 'drop_trigger', risk: 'safe', target: trigger.name, summary: `drop trigger ${trigger.name}`, sql: ctx.dialect.dropTrigger(trigger.name, trigger.junction.target).slice(1) });
    const mode = trigger.junction.cascadeDelete ? 'delete records that reference it' : 'refuse when a required relation would be left empty';
    ctx.steps.push({ kind: 'create_trigger', risk: 'safe', target: trigger.name, summary: `on deleting a ${trigger.junction.target} record, ${mode} (${trigger.junction.owner}.${trigger.junction.fieldName})`, sql: ctx.dialect.createTrigger(trigger) });
  }
}

/** Drops tables of collections removed from the files (only ones Galley created). */
export async function planTableDrops(ctx: PlanContext): Promise<void> {
  const wanted = new Set(ctx.desired.tables.map((t) => t.collectionId));
  for (const table of ctx.previous?.tables ?? []) {
    if (wanted.has(table.collectionId) || !ctx.live.tables.has(table.name)) continue;
    const rows = await countRows(ctx, `SELECT COUNT(*) AS n FROM ${q(table.name)}`);
    const sql = [...table.junctions.filter((j) => ctx.live.tables.has(j.name)).map((j) => `DROP TABLE ${q(j.name)}`), `DROP TABLE ${q(table.name)}${ctx.dialect.name === 'postgres' ? ' CASCADE' : ''}`];
    ctx.steps.push({ kind: 'drop_table', risk: rows > 0 ? 'destructive' : 'rewrite', target: table.name, summary: `drop table ${table.name}`, sql, ...(rows > 0 ? { loss: `${rows} row${rows === 1 ? '' : 's'} of ${table.name}` } : {}) });
  }
}

export function planForeignKeys(ctx: PlanContext, created: TableSpec[]): void {
  for (const table of created) {
    const sql = ctx.dialect.deferredForeignKeys(table);
    if (sql.length) ctx.steps.push({ kind: 'add_foreign_keys', risk: 'safe', target: table.name, summary: `add foreign keys of ${table.name}`, sql });
  }
}

/**
 * Views depend on tables, so they are dropped before and created after any table change; otherwise
 * only missing or changed views are touched. Views may read other views: a view is created after the
 * views it reads and dropped before them, and dropping a view drops (and recreates) the views that
 * read it, which PostgreSQL requires and which keeps SQLite's views pointing at the new definition.
 */
export async function planViews(ctx: PlanContext, tableStepsBefore: number): Promise<{ drops: ReturnType<typeof viewStep>[]; creates: ReturnType<typeof viewStep>[] }> {
  const touchedTables = ctx.steps.length > tableStepsBefore;
  const previousQuery = new Map((ctx.previous?.views ?? []).map((v) => [v.collectionId, v]));
  const galleyViews = new Set([...(ctx.previous?.views ?? []), ...ctx.desired.views].map((v) => v.name));
  const wanted = new Set(ctx.desired.views.map((v) => v.name));
  // What each live Galley view reads, by its recorded query (or the wanted one when there is no record).
  const recorded = new Map([...ctx.desired.views, ...(ctx.previous?.views ?? [])].map((v) => [v.name, v.query]));
  const liveReads = new Map([...ctx.live.views].filter((name) => galleyViews.has(name)).map((name) => [name, readViews(recorded.get(name) ?? '', galleyViews)]));
  const dropped = new Set<string>();
  for (const name of liveReads.keys()) {
    const want = ctx.desired.views.find((v) => v.name === name);
    const unchanged = want && previousQuery.get(want.collectionId)?.query === want.query && previousQuery.get(want.collectionId)?.name === name;
    if (!wanted.has(name) || !unchanged || touchedTables) dropped.add(name);
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, reads] of liveReads) {
      if (dropped.has(name) || !reads.some((r) => dropped.has(r))) continue;
      dropped.add(name);
      grew = true;
    }
  }
  const drops = dependencyOrder([...dropped], liveReads)
    .reverse()
    .map((name) => viewStep('drop_view', name, `drop view ${name}`, [`DROP VIEW IF EXISTS ${q(name)}`]));
  for (const name of dropped) ctx.live.views.delete(name);

  const missing = ctx.desired.views.filter((v) => !ctx.live.views.has(v.name));
  const byName = new Map(missing.map((v) => [v.name, v]));
  const wantedReads = new Map(missing.map((v) => [v.name, readViews(v.query, wanted)]));
  const creates: ReturnType<typeof viewStep>[] = [];
  for (const name of dependencyOrder([...byName.keys()], wantedReads)) {
    const view = byName.get(name)!;
    creates.push(viewStep('create_view', view.name, `create view ${view.name}`, ctx.dialect.createView(view.name, await renderViewQuery(view.query, ctx.dialect.name, ctx.desired))));
  }
  void previousTable;
  return { drops, creates };
}

/** The views among `views` (by name) that a query reads. */
function readViews(query: string, views: Set<string>): string[] {
  const lower = new Map([...views].map((v) => [v.toLowerCase(), v]));
  return viewQueryTables(query).flatMap((t) => lower.get(t.toLowerCase()) ?? []);
}

/** `names` with every view after the views it reads (cycles are refused when the files load). */
function dependencyOrder(names: string[], reads: Map<string, string[]>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const visit = (name: string, path: Set<string>) => {
    if (placed.has(name) || path.has(name)) return;
    path.add(name);
    for (const dependency of reads.get(name) ?? []) if (names.includes(dependency)) visit(dependency, path);
    placed.add(name);
    order.push(name);
  };
  for (const name of [...names].sort()) visit(name, new Set());
  return order;
}

function viewStep(kind: 'create_view' | 'drop_view', target: string, summary: string, sql: string[]) {
  return { kind, risk: 'safe' as const, target, summary, sql };
}
