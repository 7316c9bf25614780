import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dialectFor, HISTORY_TABLE, knexExecutor, migrate, MigrationFailedError, type DialectName, type PlanStep } from '../../src/db/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { schemaOf } from '../helpers/schema.js';

type Collection = Record<string, unknown>;
const ROOT = new URL('../..', import.meta.url).pathname;

/** Everything observable about the database: its structure and every row of every table. */
async function snapshot(t: TestDatabase): Promise<unknown> {
  const live = await dialectFor(t.dialect).introspect(knexExecutor(t.db.knex));
  const rows: Record<string, string[]> = {};
  for (const name of [...live.tables.keys()].sort()) {
    const all = await t.db.knex(name).select('*');
    rows[name] = all.map((r) => JSON.stringify(r)).sort();
  }
  return {
    tables: [...live.tables.values()].sort((a, b) => a.name.localeCompare(b.name)),
    indexes: [...live.indexes].sort(),
    views: [...live.views].sort(),
    triggers: [...live.triggers].sort(),
    rows,
  };
}

const V1: Collection[] = [
  { name: 'authors', fields: [{ name: 'name', type: 'text' }, { name: 'age', type: 'number' }] },
  {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1 },
      { name: 'old', type: 'text' },
    ],
    indexes: ['CREATE INDEX `idx_posts_title` ON `posts` (`title`)'],
  },
];

/** Touches every kind of step: create, add, rename, retype, rebuild/alter, drop, junction, trigger, index, view. */
const V2: Collection[] = [
  { name: 'authors', fields: [{ name: 'fullName', type: 'text', previousName: 'name' }, { name: 'age', type: 'text' }] },
  {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'author', type: 'relation', collection: 'authors', maxSelect: 5, cascadeDelete: true },
      { name: 'extra', type: 'bool' },
    ],
    indexes: ['CREATE UNIQUE INDEX `idx_posts_title_n` ON `posts` (`title` COLLATE NOCASE, `n`)'],
  },
  { name: 'tags', fields: [{ name: 'label', type: 'text' }] },
  { name: 'post_titles', type: 'view', viewQuery: 'SELECT id, title FROM posts' },
];

async function seeded(dialect: DialectName): Promise<TestDatabase> {
  const t = await freshDatabase(dialect);
  await migrate(t.db, schemaOf(...V1), { apply: true, allowDestructive: false });
  await t.db.knex('authors').insert([{ id: 'a1', name: 'Ann', age: 30 }, { id: 'a2', name: 'Bob', age: 41 }]);
  await t.db.knex('posts').insert([
    { id: 'p1', title: 'One', n: 1, author: 'a1', old: 'x' },
    { id: 'p2', title: 'Two', n: 2, author: 'a2', old: 'y' },
    { id: 'p3', title: 'Three', n: 3, author: null, old: '' },
  ]);
  return t;
}

describe.each(DIALECTS)('migration safety (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.drop();
    t = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  describe('a failing apply leaves the database exactly as it was', () => {
    // Which step fails, as a fraction of the plan, and how: a throw before the step, or SQL the engine rejects.
    const FAILURES: { at: 'first' | 'middle' | 'last'; how: 'throw' | 'bad sql' }[] = [
      { at: 'first', how: 'throw' },
      { at: 'middle', how: 'throw' },
      { at: 'last', how: 'throw' },
      { at: 'middle', how: 'bad sql' },
      { at: 'last', how: 'bad sql' },
    ];

    it.each(FAILURES)('failure at the $at step ($how)', async ({ at, how }) => {
      t = await seeded(dialect);
      const schema = schemaOf(...V2);
      const planned = await migrate(t.db, schema, { apply: false, allowDestructive: true });
      const count = planned.plan.steps.length;
      expect(count).toBeGreaterThan(8);
      const failAt = at === 'first' ? 0 : at === 'middle' ? Math.floor(count / 2) : count - 1;
      const before = await snapshot(t);
      const ran: string[] = [];
      const beforeStep = (step: PlanStep, i: number) => {
        ran.push(step.kind);
        if (i !== failAt) return;
        if (how === 'throw') throw new Error('simulated crash');
        step.sql.push('THIS IS NOT SQL');
      };
      const err = await migrate(t.db, schema, { apply: true, allowDestructive: true, beforeStep }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationFailedError);
      expect((err as Error).message).toMatch(how === 'throw' ? /simulated crash\. Nothing was changed\./ : /Nothing was changed\./);
      expect(ran).toHaveLength(failAt + 1);
      expect(await snapshot(t)).toEqual(before);
      // and the same plan still applies afterwards
      const ok = await migrate(t.db, schema, { apply: true, allowDestructive: true });
      expect(ok.plan.steps.map((s) => s.kind)).toEqual(planned.plan.steps.map((s) => s.kind));
      expect(await snapshot(t)).not.toEqual(before);
      expect((await migrate(t.db, schema, { apply: true, allowDestructive: true })).plan.steps).toEqual([]);
    });
  });

  it('two migrators started at once: exactly one applies, the other finds nothing to do', async () => {
    t = await freshDatabase(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'galley-concurrent-'));
    dirs.push(dir);
    const collections = join(dir, 'collections');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(collections);
    for (let i = 0; i < 50; i++) {
      const name = `c${String(i).padStart(2, '0')}`;
      const fields: Record<string, unknown>[] = [
        { name: 'title', type: 'text' },
        { name: 'n', type: 'number' },
        { name: 'flag', type: 'bool' },
        { name: 'when', type: 'date' },
        { name: 'meta', type: 'json' },
      ];
      if (i > 0) fields.push({ name: 'parent', type: 'relation', collection: `c${String(i - 1).padStart(2, '0')}`, maxSelect: 1 });
      if (i > 1) fields.push({ name: 'links', type: 'relation', collection: 'c00', maxSelect: 9, cascadeDelete: i % 2 === 0 });
      writeFileSync(join(collections, `${name}.json`), JSON.stringify({ name, fields, indexes: [`CREATE INDEX \`idx_${name}_title\` ON \`${name}\` (\`title\`)`] }));
    }
    const run = () =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'migrate', '--collections', collections, '--data', join(dir, 'data'), '--db', t!.url],
          { cwd: ROOT, timeout: 120_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
        );
      });
    const results = await Promise.all([run(), run()]);
    expect(results.map((r) => r.code), results.map((r) => r.out.slice(-1500)).join('\n----\n')).toEqual([0, 0]);
    const applied = results.filter((r) => /Applied \d+ step/.test(r.out));
    const idle = results.filter((r) => /Nothing to migrate/.test(r.out));
    expect([applied.length, idle.length]).toEqual([1, 1]);
    const history = await t.db.knex(HISTORY_TABLE).select('plan');
    expect(history).toHaveLength(1);
    expect(JSON.parse(String(history[0]!['plan'])).length).toBeGreaterThan(100);
    const live = await dialectFor(dialect).introspect(knexExecutor(t.db.knex));
    expect([...live.tables.keys()].filter((n) => /^c\d\d$/.test(n))).toHaveLength(50);
  }, 120_000);

  describe('drift is reported and never overwritten', () => {
    const ITEMS: Collection = { name: 'items', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }, { name: 'keep', type: 'text' }] };
    /** A further change to the same table, which makes SQLite rebuild it and PostgreSQL alter it. */
    const ITEMS_CHANGED: Collection = { name: 'items', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }] };

    /** Hand-made changes, per engine, and the drift message they must produce. */
    const HAND: Record<string, { sql: Record<DialectName, string[]>; drift: RegExp; column: string; type: Record<DialectName, string> }> = {
      'column added by hand': {
        sql: {
          sqlite: ['ALTER TABLE "items" ADD COLUMN "extra" TEXT'],
          postgres: ['ALTER TABLE "items" ADD COLUMN "extra" text'],
        },
        drift: /column "items\.extra" is not in the collection files and was not created by Galley; left as it is/,
        column: 'extra',
        type: { sqlite: 'text', postgres: 'text' },
      },
      'column type changed by hand': {
        sql: {
          // SQLite cannot alter a column: rebuild the table by hand with n as TEXT.
          sqlite: [
            'CREATE TABLE "items_new" ("id" TEXT PRIMARY KEY NOT NULL, "title" TEXT NOT NULL DEFAULT \'\', "n" TEXT NOT NULL DEFAULT \'\', "keep" TEXT NOT NULL DEFAULT \'\', "_galley_version" NUMERIC NOT NULL DEFAULT 0)',
            'INSERT INTO "items_new" SELECT "id", "title", CAST("n" AS TEXT), "keep", "_galley_version" FROM "items"',
            'DROP TABLE "items"',
            'ALTER TABLE "items_new" RENAME TO "items"',
          ],
          postgres: ['ALTER TABLE "items" ALTER COLUMN "n" DROP DEFAULT, ALTER COLUMN "n" TYPE text'],
        },
        drift: /column "items\.n" has type text, Galley created it as (numeric|double precision); left as it is/,
        column: 'n',
        type: { sqlite: 'text', postgres: 'text' },
      },
    };

    it.each(Object.keys(HAND))('%s', async (name) => {
      const hand = HAND[name]!;
      t = await freshDatabase(dialect);
      await migrate(t.db, schemaOf(ITEMS), { apply: true, allowDestructive: false });
      await t.db.knex('items').insert([{ id: 'a', title: 'A', n: 1, keep: 'k' }]);
      for (const sql of hand.sql[dialect]) await t.db.knex.raw(sql);
      await t.db.knex('items').update({ [hand.column]: 'hand-written' });
      const typeOf = async () => (await dialectFor(dialect).introspect(knexExecutor(t!.db.knex))).tables.get('items')!.columns.find((c) => c.name === hand.column)?.type;

      // same files: nothing to do but the drift report
      const plan = await migrate(t.db, schemaOf(ITEMS), { apply: false, allowDestructive: false });
      expect(plan.plan.steps).toEqual([]);
      expect(plan.plan.drift).toEqual([expect.stringMatching(hand.drift)]);
      await migrate(t.db, schemaOf(ITEMS), { apply: true, allowDestructive: false });
      expect(await typeOf()).toBe(hand.type[dialect]);

      // a change elsewhere in the same table still leaves the hand-made column alone
      const next = await migrate(t.db, schemaOf(ITEMS_CHANGED), { apply: true, allowDestructive: true });
      expect(next.plan.steps.map((s) => s.kind)).toEqual(['change_columns']);
      expect(next.plan.drift).toEqual([expect.stringMatching(hand.drift)]);
      expect(await typeOf()).toBe(hand.type[dialect]);
      expect(await t.db.knex('items').select('id', 'title', hand.column)).toEqual([{ id: 'a', title: 'A', [hand.column]: 'hand-written' }]);
    });
  });
});
