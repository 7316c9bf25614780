/**
 * View collections of real PocketBase apps (issue 10, item 9), on both engines: views that read
 * views (created after what they read, dropped before it, and recreated when what they read changes),
 * `ROW_NUMBER() OVER ()` ids, windows in CTEs, strftime, CASE, UNION ALL, scalar subqueries,
 * comments and trailing semicolons. The queries come from test/fixtures/pocketbase-exports/ (see its
 * README), imported as `galley import-pocketbase` would.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, type Database } from '../../src/db/index.js';
import { collectionFileText, convertPocketBaseExport } from '../../src/schema/import-pocketbase.js';
import { buildSchema, type Schema } from '../../src/schema/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

type Json = Record<string, unknown>;
const EXPORT = JSON.parse(readFileSync(new URL('../fixtures/pocketbase-exports/views-and-app-system-collections.json', import.meta.url), 'utf8')) as Json[];
const CHAIN = ['session_ratings', 'ranked_sessions', 'best_session'];

function schemaOf(collections: Json[]): Schema {
  return buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: collectionFileText(c) })));
}

const imported = () => convertPocketBaseExport(EXPORT).collections;

/** Numbers as numbers (PostgreSQL returns counts and sums as strings), JSON text parsed. */
function plain(rows: Json[]): Json[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => {
        if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return [k, Number(v)];
        if (typeof v === 'string' && v.startsWith('[')) return [k, JSON.parse(v) as unknown];
        if (typeof v === 'bigint') return [k, Number(v)];
        return [k, v];
      }),
    ),
  );
}

describe.each(DIALECTS)('views of real PocketBase apps (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  async function migrated(schema: Schema): Promise<Database> {
    t = await freshDatabase(dialect);
    const first = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(first.applied).toBe(true);
    return t.db;
  }

  it('migrates: views after the views they read; a second run has nothing to do', async () => {
    const schema = schemaOf(imported());
    t = await freshDatabase(dialect);
    const first = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    const created = first.plan.steps.filter((s) => s.kind === 'create_view').map((s) => s.target);
    expect(created.filter((v) => CHAIN.includes(v))).toEqual(CHAIN);
    expect(created.sort()).toEqual(schema.collections.filter((c) => c.type === 'view').map((c) => c.name).sort());
    const second = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(second.plan.steps).toEqual([]);
    expect(second.plan.drift).toEqual([]);
  });

  it('the views answer the same rows on both engines', async () => {
    const db = await migrated(schemaOf(imported()));
    await db.knex('topics').insert([
      { id: 'topic0000000001', title: 'rust', created: '2024-01-05 10:00:00.000Z', updated: '2024-01-05 10:00:00.000Z' },
      { id: 'topic0000000002', title: 'go', created: '2024-02-01 10:00:00.000Z', updated: '2024-02-01 10:00:00.000Z' },
    ]);
    const submission = (id: string, session: string, rating: number, created: string) => ({ id, session, rating, created, updated: created });
    await db.knex('submissions').insert([
      submission('sub000000000001', 'alpha', 5, '2024-01-10 08:00:00.000Z'),
      submission('sub000000000002', 'alpha', 3, '2024-01-20 08:00:00.000Z'),
      submission('sub000000000003', 'beta', 5, '2024-02-03 08:00:00.000Z'),
    ]);
    await db.knex('_galley_rel_submissions__topic').insert([
      { owner_id: 'sub000000000001', target_id: 'topic0000000002', position: 0 },
      { owner_id: 'sub000000000001', target_id: 'topic0000000001', position: 1 },
    ]);
    expect(plain(await db.knex('session_ratings').select('id', 'session', 'rating', 'count').orderBy('session'))).toEqual([
      { id: 1, session: 'alpha', rating: 4, count: 2 },
      { id: 2, session: 'beta', rating: 5, count: 1 },
    ]);
    expect(plain(await db.knex('ranked_sessions').select('session', 'position').orderBy('position'))).toEqual([
      { session: 'beta', position: 1 },
      { session: 'alpha', position: 2 },
    ]);
    expect(await db.knex('best_session').select('session')).toEqual([{ session: 'beta' }]);
    expect(plain(await db.knex('monthly').select('month', 'total', 'good').orderBy('month'))).toEqual([
      { month: '2024-01', total: 2, good: 1 },
      { month: '2024-02', total: 1, good: 1 },
    ]);
    expect(plain(await db.knex('activity').select('id', 'kind', 'title').orderBy('id'))).toEqual([
      { id: 'sub000000000001', kind: 'submission', title: 'alpha' },
      { id: 'sub000000000002', kind: 'submission', title: 'alpha' },
      { id: 'sub000000000003', kind: 'submission', title: 'beta' },
      { id: 'topic0000000001', kind: 'topic', title: 'rust' },
      { id: 'topic0000000002', kind: 'topic', title: 'go' },
    ]);
    expect(plain(await db.knex('counts').select('id', 'submissions', 'topics'))).toEqual([{ id: 1, submissions: 3, topics: 2 }]);
    const topics = await db.knex('submission_topics').select('id', 'topic').orderBy('id');
    expect(topics.map((r: Json) => ({ id: r['id'], topic: typeof r['topic'] === 'string' ? JSON.parse(r['topic']) : r['topic'] }))).toEqual([
      { id: 'sub000000000001', topic: ['topic0000000002', 'topic0000000001'] },
      { id: 'sub000000000002', topic: [] },
      { id: 'sub000000000003', topic: [] },
    ]);
  });

  it('a changed view is recreated with the views that read it: dependents dropped first, created last', async () => {
    const collections = imported();
    const db = await migrated(schemaOf(collections));
    const ratings = collections.find((c) => c['name'] === 'session_ratings')!;
    ratings['viewQuery'] = String(ratings['viewQuery']).replace('FROM "submissions"', 'FROM "submissions" WHERE rating > 0');
    const plan = await migrate(db, schemaOf(collections), { apply: true, allowDestructive: false });
    const views = plan.plan.steps.filter((s) => s.kind === 'drop_view' || s.kind === 'create_view').map((s) => `${s.kind === 'drop_view' ? 'drop' : 'create'} ${s.target}`);
    expect(views).toEqual(['drop best_session', 'drop ranked_sessions', 'drop session_ratings', 'create session_ratings', 'create ranked_sessions', 'create best_session']);
    expect(plan.applied).toBe(true);
    expect(await db.knex('best_session').select('session')).toEqual([]);
  });

  it('removing the last view of the chain leaves the others', async () => {
    const collections = imported();
    const db = await migrated(schemaOf(collections));
    const plan = await migrate(db, schemaOf(collections.filter((c) => c['name'] !== 'best_session')), { apply: true, allowDestructive: false });
    expect(plan.plan.steps.map((s) => `${s.kind} ${s.target}`)).toEqual(['drop_view best_session']);
    expect(await db.knex('ranked_sessions').select('session')).toEqual([]);
  });
});
