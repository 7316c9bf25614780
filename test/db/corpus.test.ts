import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { junctionName, migrate, type Database } from '../../src/db/index.js';
import { collectionFileText, convertPocketBaseExport } from '../../src/schema/import-pocketbase.js';
import { buildSchema, type Schema } from '../../src/schema/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';

/** Real PocketBase exports, copied from shared/corpus (see SOURCES.md there). */
const CORPUS = new URL('../fixtures/pocketbase-schemas/', import.meta.url).pathname;
const corpusFiles = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.json'))
  .sort();

function schemaFor(file: string): Schema {
  const { collections } = convertPocketBaseExport(JSON.parse(readFileSync(join(CORPUS, file), 'utf8')));
  return buildSchema(collections.map((c) => ({ file: `collections/${String(c['name'])}.json`, text: collectionFileText(c) })));
}

/** Names of the views that exist in the database (current schema only). */
async function liveViews(db: Database): Promise<string[]> {
  const rows: { name: string }[] =
    db.dialect === 'postgres'
      ? await db.knex('information_schema.views').select('table_name as name').whereRaw('table_schema = current_schema()')
      : await db.knex('sqlite_master').select('name').where({ type: 'view' });
  return rows.map((r) => r.name).sort();
}

/** Column names of a view, as the engine reports them. */
async function viewColumns(db: Database, view: string): Promise<string[]> {
  const rows: { name: string }[] =
    db.dialect === 'postgres'
      ? await db.knex('information_schema.columns').select('column_name as name').whereRaw('table_schema = current_schema()').andWhere({ table_name: view })
      : await db.knex.raw('SELECT name FROM pragma_table_info(?)', [view]);
  return rows.map((r) => r.name).sort();
}

it('the corpus is present', () => {
  expect(corpusFiles.length).toBeGreaterThanOrEqual(17);
});

describe.each(DIALECTS)('PocketBase corpus migrates (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it.each(corpusFiles)('%s', async (file) => {
    const schema = schemaFor(file);
    t = await freshDatabase(dialect);
    const first = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(first.applied).toBe(true);
    expect(first.plan.steps.length).toBeGreaterThan(0);
    expect(first.plan.steps.filter((s) => s.risk === 'destructive')).toEqual([]);

    const second = await migrate(t.db, schema, { apply: true, allowDestructive: false });
    expect(second.plan.steps.map((s) => s.summary)).toEqual([]);
    expect(second.plan.drift).toEqual([]);
    expect(second.applied).toBe(false);

    const views = schema.collections.filter((c) => c.type === 'view').map((c) => c.name);
    expect(await liveViews(t.db)).toEqual([...views].sort());
    for (const view of schema.collections.filter((c) => c.type === 'view')) {
      // Empty tables: no rows, except one for an aggregate without GROUP BY.
      const rows = await t.db.knex.select('*').from(view.name).limit(1);
      expect(rows.length).toBeLessThanOrEqual(1);
      expect(await viewColumns(t.db, view.name)).toEqual(view.fields.map((f) => f.name).sort());
    }
  });
});

/** SQLite returns JSON as text, PostgreSQL (json/jsonb) as parsed values. */
function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** Auth records with the unique keys (tokenKey, email, username when present) filled in. */
async function insertAuth(db: Database, table: string, ...ids: string[]): Promise<void> {
  const columns = await db.knex(table).columnInfo();
  const row = (id: string) => ({ id, tokenKey: `key-${id}`, email: `${id}@example.com`, ...('username' in columns ? { username: id } : {}) });
  await db.knex(table).insert(ids.map(row));
}

describe.each(DIALECTS)('corpus views answer with data (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  async function migrated(schema: Schema): Promise<Database> {
    t = await freshDatabase(dialect);
    await migrate(t.db, schema, { apply: true, allowDestructive: false });
    return t.db;
  }

  it('bool `= 1` filter (hookenz short_codes)', async () => {
    const db = await migrated(schemaFor('hookenz__hcshow__schema_pb_schema.json'));
    await db.knex('category').insert([
      { id: 'c00000000000001', name: 'on', short_code: 'ON', active: true },
      { id: 'c00000000000002', name: 'off', short_code: 'OFF', active: false },
    ]);
    expect(await db.knex('short_codes').select('id', 'name', 'short_code')).toEqual([{ id: 'c00000000000001', name: 'on', short_code: 'ON' }]);
  });

  it('aggregates without GROUP BY, ROUND(AVG(x),1), a `user` column (osaxon story_metrics)', async () => {
    const db = await migrated(schemaFor('osaxon__fragile-scrum__backend_pb_schema.json'));
    await insertAuth(db, 'users', 'u00000000000001', 'u00000000000002');
    await db.knex('stories').insert({ id: 's00000000000001', name: 'login page' });
    await db.knex('votes').insert([
      { id: 'v00000000000001', user: 'u00000000000001', story: 's00000000000001', score: 2 },
      { id: 'v00000000000002', user: 'u00000000000002', story: 's00000000000001', score: 3 },
      { id: 'v00000000000003', user: 'u00000000000002', story: 's00000000000001', score: 3 },
    ]);
    const rows = await db.knex('story_metrics').select('*');
    expect(rows.map((r: Record<string, unknown>) => ({ ...r, totalVotes: Number(r['totalVotes']), avgScore: Number(r['avgScore']), totalVoters: Number(r['totalVoters']) }))).toEqual([
      { id: 's00000000000001', name: 'login page', totalVotes: 3, avgScore: 2.7, totalVoters: 2 },
    ]);
  });

  it('json_object(...) (fundwise budgets_view)', async () => {
    const db = await migrated(schemaFor('Luckey-Elijah__fundwise__server_pb_schema.json'));
    await insertAuth(db, 'users', 'u00000000000001');
    await db.knex('date_formats').insert({ id: 'd00000000000001', format: 'YYYY-MM-DD' });
    await db.knex('currency_formats').insert({ id: 'f00000000000001', decimal_digits: 2, group_size: 3, decimal_separator: '.', group_separator: ',', symbol: '$', display_symbol: true, symbol_first: false });
    await db.knex('budgets').insert({ id: 'b00000000000001', name: 'home', date_format: 'd00000000000001', currency_format: 'f00000000000001', owner: 'u00000000000001' });
    const [row] = await db.knex('budgets_view').select('id', 'name', 'date_format', 'owner', 'currency_format');
    const currency = json(row.currency_format) as Record<string, unknown>;
    expect({ ...row, currency_format: { ...currency, display_symbol: Boolean(currency['display_symbol']), symbol_first: Boolean(currency['symbol_first']) } }).toEqual({
      id: 'b00000000000001',
      name: 'home',
      date_format: 'YYYY-MM-DD',
      owner: 'u00000000000001@example.com',
      currency_format: { decimal_digits: 2, group_size: 3, decimal_separator: '.', group_separator: ',', symbol: '$', display_symbol: true, symbol_first: false },
    });
  });

  it('a view over a collection with a multiple relation sees it as a JSON array, in order', async () => {
    const base = schemaFor('patmood__pocketbase-typegen__test_pb_schema.json');
    const everything = base.collections.find((c) => c.name === 'everything')!;
    const multi = everything.fields.find((f) => f.name === 'custom_relation_field')!;
    const target = base.byId.get(String(multi['collectionId']))!;
    const files = base.collections
      .filter((c) => !c.system)
      .map((c) => ({ file: `collections/${c.name}.json`, text: JSON.stringify(c) }));
    files.push({ file: 'collections/related.json', text: JSON.stringify({ name: 'related', type: 'view', viewQuery: 'SELECT e.id, e.custom_relation_field, e.text_field FROM everything e', fields: [] }) });
    const db = await migrated(buildSchema(files));
    await insertAuth(db, target.name, 't00000000000001', 't00000000000002');
    await db.knex('everything').insert({ id: 'e00000000000001', text_field: 'x' });
    await db.knex('everything').insert({ id: 'e00000000000002', text_field: 'y' });
    await db.knex(junctionName('everything', 'custom_relation_field')).insert([
      { owner_id: 'e00000000000001', target_id: 't00000000000002', position: 0 },
      { owner_id: 'e00000000000001', target_id: 't00000000000001', position: 1 },
    ]);
    const rows = await db.knex('related').select('*').orderBy('id');
    expect(rows.map((r: Record<string, unknown>) => ({ ...r, custom_relation_field: json(r['custom_relation_field']) }))).toEqual([
      { id: 'e00000000000001', custom_relation_field: ['t00000000000002', 't00000000000001'], text_field: 'x' },
      { id: 'e00000000000002', custom_relation_field: [], text_field: 'y' },
    ]);
  });
});
