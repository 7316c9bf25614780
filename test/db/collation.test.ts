/**
 * Text columns compare by code point on both engines (issue 11: index-friendly SQL). SQLite's
 * default collation (BINARY) already does; on PostgreSQL Galley creates its text columns
 * `COLLATE "C"`, so the indexes on them serve the compiler's `COLLATE "C"` sorts and comparisons.
 * A database made by an older Galley (the database's default collation) gets a planned,
 * reviewable `rewrite` step per table; a collation set by hand is drift, reported and kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dialectFor, knexExecutor, migrate, type MigrateResult } from '../../src/db/index.js';
import type { LiveModel } from '../../src/db/dialects/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { schemaOf } from '../helpers/schema.js';

const SCHEMA = schemaOf(
  {
    name: 'tags',
    fields: [{ name: 'name', type: 'text' }],
    indexes: ['CREATE UNIQUE INDEX `idx_tags_name` ON `tags` (`name` COLLATE NOCASE)'],
  },
  {
    name: 'notes',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'tag', type: 'relation', collection: 'tags', maxSelect: 1 },
      { name: 'tags', type: 'relation', collection: 'tags', maxSelect: 5 },
    ],
    indexes: ['CREATE INDEX `idx_notes_title` ON `notes` (`title`)'],
  },
  { name: 'note_titles', type: 'view', viewQuery: 'SELECT id, title FROM notes' },
);
const JUNCTION = '_galley_rel_notes__tags';
/** Every collatable column Galley creates for SCHEMA. */
const TEXT_COLUMNS: Record<string, string[]> = { tags: ['id', 'name'], notes: ['id', 'title', 'tag'], [JUNCTION]: ['owner_id', 'target_id'] };

const plan = (t: TestDatabase, apply = false): Promise<MigrateResult> => migrate(t.db, SCHEMA, { apply, allowDestructive: false });
const live = (t: TestDatabase): Promise<LiveModel> => dialectFor(t.dialect).introspect(knexExecutor(t.db.knex));

async function collations(t: TestDatabase): Promise<Record<string, string | null>> {
  const model = await live(t);
  const out: Record<string, string | null> = {};
  for (const [table, names] of Object.entries(TEXT_COLUMNS)) {
    for (const name of names) out[`${table}.${name}`] = model.tables.get(table)!.columns.find((c) => c.name === name)!.collation;
  }
  return out;
}

const every = (value: string | null) => Object.fromEntries(Object.entries(TEXT_COLUMNS).flatMap(([table, names]) => names.map((n) => [`${table}.${n}`, value])));

async function seed(t: TestDatabase): Promise<void> {
  const run = (sql: string, values: unknown[] = []) => t.db.runner().run(sql, values);
  await run(`INSERT INTO "tags" ("id", "name") VALUES ('t1', 'news'), ('t2', 'Zebra'), ('t3', 'äpfel'), ('t4', 'apple')`);
  await run(`INSERT INTO "notes" ("id", "title", "tag") VALUES ('n1', 'b', 't1'), ('n2', 'B', 't2'), ('n3', 'á', NULL)`);
  await run(`INSERT INTO "${JUNCTION}" ("owner_id", "target_id", "position") VALUES ('n1', 't1', 0), ('n1', 't3', 1)`);
}

/** Text by code point: upper case before lower case, ASCII before the rest. */
async function namesInOrder(t: TestDatabase): Promise<string[]> {
  return (await t.db.runner().all('SELECT "name" FROM "tags" ORDER BY "name"', [])).map((r) => String(r['name']));
}

/** The COLLATE NOCASE unique index (PostgreSQL: on lower()) folds ASCII only, on both engines. */
async function refusesCaseVariant(t: TestDatabase): Promise<void> {
  await expect(t.db.runner().run(`INSERT INTO "tags" ("id", "name") VALUES ('t9', 'NEWS')`, [])).rejects.toThrow(/unique|UNIQUE/);
  await t.db.runner().run(`INSERT INTO "tags" ("id", "name") VALUES ('t8', 'ÄPFEL')`, []);
  await t.db.runner().run(`DELETE FROM "tags" WHERE "id" = 't8'`, []);
}

describe.each(DIALECTS)('text collation (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('new tables compare text by code point (PostgreSQL: COLLATE "C" columns, so their indexes too)', async () => {
    t = await freshDatabase(dialect);
    await plan(t, true);
    // PostgreSQL: COLLATE "C" on every text, relation and junction id column; SQLite: BINARY, its default.
    expect(await collations(t)).toEqual(every(dialect === 'postgres' ? 'C' : null));
    await seed(t);
    expect(await namesInOrder(t)).toEqual(['Zebra', 'apple', 'news', 'äpfel']);
    await refusesCaseVariant(t);
    expect((await plan(t)).plan.steps).toEqual([]);
  });

  it('a database an older Galley made (default collation) gets one planned rewrite per table, keeping data, indexes and views', async () => {
    t = await freshDatabase(dialect);
    await plan(t, true);
    await seed(t);
    if (dialect === 'sqlite') {
      // There is no older format on SQLite: BINARY was always the collation. Nothing to plan.
      expect((await plan(t)).plan.steps).toEqual([]);
      return;
    }
    await asOlderGalley(t);
    expect(await collations(t)).toEqual(every(null));

    const pending = (await plan(t)).plan;
    const tableSteps = pending.steps.filter((s) => s.kind === 'change_columns');
    expect(tableSteps.map((s) => `${s.target}:${s.risk}`).sort()).toEqual([`${JUNCTION}:rewrite`, 'notes:rewrite', 'tags:rewrite']);
    expect(tableSteps.find((s) => s.target === 'notes')!.summary).toBe('alter table notes: compare id by code point, compare title by code point, compare tag by code point');
    expect(tableSteps.flatMap((s) => s.sql)).toContain('ALTER TABLE "tags" ALTER COLUMN "name" TYPE text COLLATE "C"');
    // The view reads notes.title: dropped before, created after.
    expect(pending.steps[0]).toMatchObject({ kind: 'drop_view', target: 'note_titles' });
    expect(pending.steps.at(-1)).toMatchObject({ kind: 'create_view', target: 'note_titles' });
    expect(pending.steps.every((s) => s.risk !== 'destructive')).toBe(true);

    await plan(t, true);
    expect(await collations(t)).toEqual(every('C'));
    expect(await namesInOrder(t)).toEqual(['Zebra', 'apple', 'news', 'äpfel']);
    expect((await t.db.runner().all('SELECT "title" FROM "note_titles" ORDER BY "title"', [])).map((r) => r['title'])).toEqual(['B', 'b', 'á']);
    expect((await t.db.runner().all(`SELECT "target_id" FROM "${JUNCTION}" WHERE "owner_id" = 'n1' ORDER BY "position"`, [])).map((r) => r['target_id'])).toEqual(['t1', 't3']);
    await refusesCaseVariant(t);
    expect((await plan(t)).plan.steps).toEqual([]);
  });

  it('a collation set by hand is drift: reported, left as it is', async () => {
    t = await freshDatabase(dialect);
    await plan(t, true);
    if (dialect === 'sqlite') {
      // SQLite columns have no collation Galley reads or sets (an index's COLLATE is its own).
      expect(dialectFor('sqlite').collation('text')).toBeNull();
      return;
    }
    await t.db.runner().run('DROP VIEW "note_titles"', []);
    await t.db.runner().run('ALTER TABLE "notes" ALTER COLUMN "title" TYPE text COLLATE "POSIX"', []);
    await t.db.runner().run('CREATE VIEW "note_titles" AS SELECT "id", "title" FROM "notes"', []);
    const result = await plan(t, true);
    expect(result.plan.steps).toEqual([]);
    expect(result.plan.drift).toEqual(['column "notes.title" has collation POSIX, Galley creates it with C; left as it is']);
    expect((await collations(t))['notes.title']).toBe('POSIX');
  });
});

/** What a Galley before COLLATE "C" left behind: the same tables with the database's default collation. */
async function asOlderGalley(t: TestDatabase): Promise<void> {
  const run = (sql: string) => t.db.runner().run(sql, []);
  await run('DROP VIEW "note_titles"');
  for (const [table, names] of Object.entries(TEXT_COLUMNS)) {
    await run(`ALTER TABLE "${table}" ${names.map((n) => `ALTER COLUMN "${n}" TYPE text COLLATE "default"`).join(', ')}`);
  }
  await run('CREATE VIEW "note_titles" AS SELECT "id", "title" FROM "notes"');
}
