import { afterEach, describe, expect, it } from 'vitest';
import {
  buildModel,
  decodeValue,
  dialectFor,
  HISTORY_TABLE,
  knexExecutor,
  migrate,
  MigrationRefusedError,
  readHistory,
  type DialectName,
  type MigrateResult,
} from '../../src/db/index.js';
import type { LiveModel } from '../../src/db/dialects/index.js';
import { junctionName } from '../../src/db/model.js';
import type { Knex } from 'knex';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { schemaOf } from '../helpers/schema.js';

type Collection = Record<string, unknown>;
const base = (name: string, fields: Record<string, unknown>[], extra: Collection = {}): Collection => ({ name, type: 'base', fields, ...extra });
const text = (name: string, extra: Collection = {}) => ({ name, type: 'text', ...extra });

async function apply(t: TestDatabase, collections: Collection[], allowDestructive = false): Promise<MigrateResult> {
  return migrate(t.db, schemaOf(...collections), { apply: true, allowDestructive });
}

async function live(t: TestDatabase): Promise<LiveModel> {
  return dialectFor(t.dialect).introspect(knexExecutor(t.db.knex));
}

async function columns(t: TestDatabase, table: string): Promise<string[]> {
  return ((await live(t)).tables.get(table)?.columns ?? []).map((c) => c.name).filter((n) => n !== '_galley_version');
}

const kinds = (r: MigrateResult) => r.plan.steps.map((s) => `${s.kind}:${s.risk}`);

/** A schema change from v1 to v2 over seeded data, and what must hold afterwards. */
interface StepCase {
  name: string;
  v1: Collection[];
  seed?: (knex: Knex, dialect: DialectName) => Promise<void>;
  v2: Collection[];
  /** `kind:risk` of every step, in order (per dialect where the engines differ). */
  steps: string[] | Record<DialectName, string[]>;
  check: (t: TestDatabase) => Promise<void>;
}

const ITEMS = 'pbc_items_000001';

const CASES: StepCase[] = [
  {
    name: 'create table',
    v1: [],
    v2: [base('items', [text('title'), { name: 'n', type: 'number' }])],
    steps: ['create_table:safe'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id', 'title', 'n']);
    },
  },
  {
    name: 'add column (existing rows get the zero value)',
    v1: [base('items', [text('title')])],
    seed: async (k) => void (await k('items').insert({ id: 'a', title: 'x' })),
    v2: [base('items', [text('title'), { name: 'n', type: 'number' }, { name: 'flag', type: 'bool' }])],
    steps: ['add_column:safe', 'add_column:safe'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id', 'title', 'n', 'flag']);
      const row = await t.db.knex('items').first();
      expect(Number(row.n)).toBe(0);
      expect(Boolean(row.flag)).toBe(false);
    },
  },
  {
    name: 'add indexes (multi-column, WHERE, COLLATE NOCASE)',
    v1: [base('items', [text('a'), text('email'), { name: 'n', type: 'number' }])],
    v2: [
      base('items', [text('a'), text('email'), { name: 'n', type: 'number' }], {
        indexes: [
          'CREATE INDEX `idx_multi` ON `items` (`a`, `n` DESC)',
          'CREATE INDEX `idx_where` ON `items` (`a`) WHERE `n` > 0',
          'CREATE UNIQUE INDEX `idx_email` ON `items` (`email` COLLATE NOCASE)',
        ],
      }),
    ],
    steps: ['create_index:safe', 'create_index:safe', 'create_index:safe'],
    check: async (t) => {
      const indexes = (await live(t)).indexes;
      expect(['idx_multi', 'idx_where', 'idx_email'].map((i) => indexes.get(i))).toEqual(['items', 'items', 'items']);
      await t.db.knex('items').insert({ id: 'a', email: 'Ann@Example.com' });
      await expect(t.db.knex('items').insert({ id: 'b', email: 'ann@example.COM' })).rejects.toThrow(/unique|duplicate/i);
      await t.db.knex('items').insert({ id: 'c', email: 'bob@example.com' });
      expect(await t.db.knex('items').count({ n: '*' })).toEqual([{ n: expect.anything() }]);
      expect(Number((await t.db.knex('items').count({ n: '*' }))[0]!['n'])).toBe(2);
    },
  },
  {
    name: 'rename column by field id',
    v1: [base('items', [text('title', { id: 'text_title_01' })])],
    seed: async (k) => void (await k('items').insert({ id: 'a', title: 'kept' })),
    v2: [base('items', [text('headline', { id: 'text_title_01' })])],
    steps: ['rename_column:safe'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id', 'headline']);
      expect(await t.db.knex('items').pluck('headline')).toEqual(['kept']);
    },
  },
  {
    name: 'rename column by previousName',
    v1: [base('items', [text('title')])],
    seed: async (k) => void (await k('items').insert({ id: 'a', title: 'kept' })),
    v2: [base('items', [text('headline', { previousName: 'title' })])],
    steps: ['rename_column:safe'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id', 'headline']);
      expect(await t.db.knex('items').pluck('headline')).toEqual(['kept']);
    },
  },
  {
    // Regression: the rename must be matched to the old column's date type (no text→date conversion),
    // and nothing may be counted under the new name before the rename runs.
    name: 'rename a date column by previousName (type kept)',
    v1: [base('items', [{ name: 'publishedAt', type: 'date' }])],
    seed: async (k) => void (await k('items').insert({ id: 'a' })),
    v2: [base('items', [{ name: 'publishedOn', type: 'date', previousName: 'publishedAt' }])],
    steps: ['rename_column:safe'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id', 'publishedOn']);
    },
  },
  {
    name: 'rename collection (same collection id)',
    v1: [base('items', [text('title')], { id: ITEMS })],
    seed: async (k) => void (await k('items').insert({ id: 'a', title: 'kept' })),
    v2: [base('things', [text('title')], { id: ITEMS })],
    steps: ['rename_table:safe'],
    check: async (t) => {
      const l = await live(t);
      expect([l.tables.has('items'), l.tables.has('things')]).toEqual([false, true]);
      expect(await t.db.knex('things').pluck('title')).toEqual(['kept']);
    },
  },
  {
    name: 'widen number to text',
    v1: [base('items', [{ name: 'n', type: 'number' }])],
    seed: async (k) => void (await k('items').insert([{ id: 'a', n: 42 }, { id: 'b', n: -1.5 }, { id: 'c', n: 0 }])),
    v2: [base('items', [text('n')])],
    steps: ['change_columns:rewrite'],
    check: async (t) => {
      expect(await t.db.knex('items').orderBy('id').pluck('n')).toEqual(['42', '-1.5', '0']);
      expect((await live(t)).tables.get('items')!.columns.find((c) => c.name === 'n')!.type).toBe(dialectFor(t.dialect).sqlType('text'));
    },
  },
  {
    name: 'widen select single to multiple (keeps the value)',
    v1: [base('items', [{ name: 's', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 }])],
    seed: async (k) => void (await k('items').insert([{ id: 'a', s: 'b' }, { id: 'b', s: '' }])),
    v2: [base('items', [{ name: 's', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 }])],
    steps: ['change_columns:rewrite'],
    check: async (t) => {
      const rows = await t.db.knex('items').orderBy('id').pluck('s');
      expect(rows.map((v) => (typeof v === 'string' ? JSON.parse(v) : v))).toEqual([['b'], []]);
    },
  },
  {
    name: 'single relation cascadeDelete toggled (foreign key action changes)',
    v1: [base('targets', [text('title')]), base('items', [{ name: 'ref', type: 'relation', collection: 'targets', maxSelect: 1 }])],
    seed: async (k) => {
      await k('targets').insert([{ id: 't1' }, { id: 't2' }]);
      await k('items').insert([{ id: 'a', ref: 't1' }, { id: 'b', ref: 't2' }]);
    },
    v2: [base('targets', [text('title')]), base('items', [{ name: 'ref', type: 'relation', collection: 'targets', maxSelect: 1, cascadeDelete: true }])],
    steps: ['change_columns:rewrite'],
    check: async (t) => {
      expect((await live(t)).tables.get('items')!.columns.find((c) => c.name === 'ref')!.ref).toMatchObject({ table: 'targets', onDelete: 'CASCADE' });
      expect(await t.db.knex('items').orderBy('id').pluck('ref')).toEqual(['t1', 't2']);
      await t.db.knex('targets').where({ id: 't1' }).delete();
      expect(await t.db.knex('items').pluck('id')).toEqual(['b']);
    },
  },
  {
    name: 'single relation becomes multiple (ids move to the junction)',
    v1: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 1 }])],
    seed: async (k) => {
      await k('targets').insert([{ id: 't1' }, { id: 't2' }]);
      await k('items').insert([{ id: 'a', tags: 't1' }, { id: 'b', tags: 't2' }, { id: 'c' }]);
    },
    v2: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 5 }])],
    steps: ['create_junction:rewrite', 'change_columns:rewrite'],
    check: async (t) => {
      expect(await columns(t, 'items')).toEqual(['id']);
      const rows = await t.db.knex(junctionName('items', 'tags')).orderBy('owner_id').select('owner_id', 'target_id', 'position');
      expect(rows).toEqual([
        { owner_id: 'a', target_id: 't1', position: 0 },
        { owner_id: 'b', target_id: 't2', position: 0 },
      ]);
    },
  },
  {
    name: 'multiple relation becomes single without extra ids',
    v1: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 5 }])],
    seed: async (k) => {
      await k('targets').insert([{ id: 't1' }, { id: 't2' }]);
      await k('items').insert([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
      await k(junctionName('items', 'tags')).insert([
        { owner_id: 'a', target_id: 't2', position: 0 },
        { owner_id: 'b', target_id: 't1', position: 0 },
      ]);
    },
    v2: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 1 }])],
    steps: ['add_column:safe', 'change_columns:rewrite', 'drop_junction:rewrite'],
    check: async (t) => {
      expect(await t.db.knex('items').orderBy('id').pluck('tags')).toEqual(['t2', 't1', null]);
      expect((await live(t)).tables.has(junctionName('items', 'tags'))).toBe(false);
    },
  },
];

describe.each(DIALECTS)('migration steps (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it.each(CASES)('$name', async (c) => {
    t = await freshDatabase(dialect);
    await apply(t, c.v1);
    await c.seed?.(t.db.knex, dialect);
    const result = await apply(t, c.v2);
    expect(kinds(result)).toEqual(Array.isArray(c.steps) ? c.steps : c.steps[dialect]);
    expect(result.applied).toBe(true);
    expect(result.plan.drift).toEqual([]);
    await c.check(t);
    // converged: the same files plan nothing more
    const again = await apply(t, c.v2);
    expect(again.plan.steps).toEqual([]);
    expect(again.plan.drift).toEqual([]);
  });

  it('create table plans create steps (and foreign keys on PostgreSQL) on an empty database', async () => {
    t = await freshDatabase(dialect);
    const result = await apply(t, [base('targets', [text('title')]), base('items', [{ name: 'ref', type: 'relation', collection: 'targets', maxSelect: 1 }])]);
    const ours = result.plan.steps.filter((s) => s.target === 'targets' || s.target === 'items');
    expect(ours.map((s) => `${s.kind}:${s.risk}`)).toEqual(dialect === 'postgres' ? ['create_table:safe', 'create_table:safe', 'add_foreign_keys:safe'] : ['create_table:safe', 'create_table:safe']);
    expect(result.plan.steps.every((s) => s.risk === 'safe')).toBe(true);
    expect((await live(t)).tables.get('items')!.columns.find((c) => c.name === 'ref')!.ref).toMatchObject({ table: 'targets', onDelete: 'SET NULL' });
  });

  describe('destructive steps are refused without allowDestructive, with the loss in numbers', () => {
    const DESTRUCTIVE: {
      name: string;
      v1: Collection[];
      seed: (k: Knex) => Promise<void>;
      v2: Collection[];
      steps: string[];
      message: RegExp;
      after: (t: TestDatabase) => Promise<void>;
    }[] = [
      {
        name: 'drop column',
        v1: [base('items', [text('title'), { name: 'n', type: 'number' }])],
        seed: async (k) => void (await k('items').insert([{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 0 }])),
        v2: [base('items', [text('title')])],
        steps: ['change_columns:destructive'],
        message: /2 non-empty values in items\.n \(dropped\)/,
        after: async (t) => expect(await columns(t, 'items')).toEqual(['id', 'title']),
      },
      {
        name: 'drop table',
        v1: [base('items', [text('title')]), base('keep', [text('title')])],
        seed: async (k) => void (await k('items').insert([{ id: 'a' }, { id: 'b' }, { id: 'c' }])),
        v2: [base('keep', [text('title')])],
        steps: ['drop_table:destructive'],
        message: /drop table items: would lose 3 rows of items/,
        after: async (t) => expect((await live(t)).tables.has('items')).toBe(false),
      },
      {
        name: 'narrowing type change (text to number)',
        v1: [base('items', [text('v')])],
        seed: async (k) => void (await k('items').insert([{ id: 'a', v: '12' }, { id: 'b', v: 'abc' }, { id: 'c', v: '' }])),
        v2: [base('items', [{ name: 'v', type: 'number' }])],
        steps: ['change_columns:destructive'],
        message: /2 non-empty values in items\.v \(converted from text to number\)/,
        after: async (t) => expect((await t.db.knex('items').orderBy('id').pluck('v')).map(Number)).toEqual([12, 0, 0]),
      },
      {
        name: 'narrowing type change (text to date)',
        v1: [base('items', [text('d')])],
        seed: async (k) => void (await k('items').insert([{ id: 'a', d: '2024-01-02 03:04:05.678Z' }, { id: 'b', d: 'soon' }, { id: 'c', d: '' }])),
        v2: [base('items', [{ name: 'd', type: 'date' }])],
        steps: ['change_columns:destructive'],
        message: /2 non-empty values in items\.d \(converted from text to date\)/,
        after: async (t) => {
          const col = buildModel(schemaOf(base('items', [{ name: 'd', type: 'date' }]))).tables.find((x) => x.name === 'items')!.columns.find((c) => c.name === 'd')!;
          const raw = await t.db.knex('items').orderBy('id').pluck('d');
          expect(raw.map((v) => decodeValue(col, v, t.dialect))).toEqual(['2024-01-02 03:04:05.678Z', '', '']);
        },
      },
      {
        name: 'multiple relation becomes single with extra ids',
        v1: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 5 }])],
        seed: async (k) => {
          await k('targets').insert([{ id: 't1' }, { id: 't2' }, { id: 't3' }]);
          await k('items').insert([{ id: 'a' }, { id: 'b' }]);
          await k(junctionName('items', 'tags')).insert([
            { owner_id: 'a', target_id: 't3', position: 0 },
            { owner_id: 'a', target_id: 't1', position: 1 },
            { owner_id: 'a', target_id: 't2', position: 2 },
            { owner_id: 'b', target_id: 't2', position: 0 },
          ]);
        },
        v2: [base('targets', [text('title')]), base('items', [{ name: 'tags', type: 'relation', collection: 'targets', maxSelect: 1 }])],
        steps: ['add_column:safe', 'change_columns:destructive', 'drop_junction:rewrite'],
        message: /would lose 2 relation ids beyond the first/,
        after: async (t) => expect(await t.db.knex('items').orderBy('id').pluck('tags')).toEqual(['t3', 't2']),
      },
      {
        name: 'unique index over duplicate data',
        v1: [base('items', [text('slug')])],
        seed: async (k) => void (await k('items').insert([{ id: 'a', slug: 'dup' }, { id: 'b', slug: 'dup' }, { id: 'c', slug: 'one' }])),
        v2: [base('items', [text('slug')], { indexes: ['CREATE UNIQUE INDEX `idx_slug` ON `items` (`slug`)'] })],
        steps: ['create_index:destructive'],
        message: /create unique index idx_slug on items \(slug\): would lose nothing until the duplicates are resolved: \("dup"\) ×2/,
        after: async () => {}, // applying fails: the engine refuses the index (checked below)
      },
    ];

    it.each(DESTRUCTIVE)('$name', async (c) => {
      t = await freshDatabase(dialect);
      await apply(t, c.v1);
      await c.seed(t.db.knex);
      const before = await live(t);
      const refused = await apply(t, c.v2).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(MigrationRefusedError);
      expect((refused as Error).message).toMatch(c.message);
      expect(kinds({ plan: (refused as MigrationRefusedError).plan, applied: false })).toEqual(c.steps);
      expect(await live(t)).toEqual(before);
      if (c.name.startsWith('unique')) {
        await expect(apply(t, c.v2, true)).rejects.toThrow(/failed: .*(unique|duplicate)/i);
        expect(await live(t)).toEqual(before);
        await t.db.knex('items').where({ id: 'b' }).update({ slug: 'two' });
        expect(kinds(await apply(t, c.v2))).toEqual(['create_index:safe']);
        return;
      }
      const applied = await apply(t, c.v2, true);
      expect(kinds(applied)).toEqual(c.steps);
      await c.after(t);
      expect((await apply(t, c.v2)).plan.steps).toEqual([]);
    });
  });

  describe('relation delete semantics', () => {
    const rel = (extra: Collection) => [base('targets', [text('title')]), base('items', [{ name: 'ref', type: 'relation', collection: 'targets', ...extra }])];

    it('non-cascade single relation: deleting the target sets the reference to NULL', async () => {
      t = await freshDatabase(dialect);
      await apply(t, rel({ maxSelect: 1 }));
      await t.db.knex('targets').insert([{ id: 't1' }]);
      await t.db.knex('items').insert([{ id: 'a', ref: 't1' }]);
      await t.db.knex('targets').where({ id: 't1' }).delete();
      expect(await t.db.knex('items').select('id', 'ref')).toEqual([{ id: 'a', ref: null }]);
    });

    it('required single relation: deleting the target is refused with a foreign-key error', async () => {
      t = await freshDatabase(dialect);
      await apply(t, rel({ maxSelect: 1, required: true }));
      await t.db.knex('targets').insert([{ id: 't1' }]);
      await t.db.knex('items').insert([{ id: 'a', ref: 't1' }]);
      await expect(t.db.knex('targets').where({ id: 't1' }).delete()).rejects.toThrow(/foreign key/i);
      expect(await t.db.knex('items').select('id', 'ref')).toEqual([{ id: 'a', ref: 't1' }]);
    });

    it('single relation: ids without a target are rejected', async () => {
      t = await freshDatabase(dialect);
      await apply(t, rel({ maxSelect: 1 }));
      await expect(t.db.knex('items').insert([{ id: 'a', ref: 'missing' }])).rejects.toThrow(/foreign key/i);
    });

    it('cascadeDelete multiple relation: deleting a target deletes the owners it leaves empty; the others only lose the id', async () => {
      t = await freshDatabase(dialect);
      const result = await apply(t, rel({ maxSelect: 5, cascadeDelete: true }));
      expect(kinds(result)).toContain('create_trigger:safe');
      const j = junctionName('items', 'ref');
      await t.db.knex('targets').insert([{ id: 't1' }, { id: 't2' }]);
      await t.db.knex('items').insert([{ id: 'a' }, { id: 'b' }]);
      await t.db.knex(j).insert([
        { owner_id: 'a', target_id: 't1', position: 0 },
        { owner_id: 'a', target_id: 't2', position: 1 },
        { owner_id: 'b', target_id: 't2', position: 0 },
      ]);
      await t.db.knex('targets').where({ id: 't1' }).delete();
      expect(await t.db.knex('items').orderBy('id').pluck('id')).toEqual(['a', 'b']);
      expect(await t.db.knex(j).orderBy('owner_id').select('owner_id', 'target_id')).toEqual([
        { owner_id: 'a', target_id: 't2' },
        { owner_id: 'b', target_id: 't2' },
      ]);
      await t.db.knex('targets').where({ id: 't2' }).delete();
      expect(await t.db.knex('items').pluck('id')).toEqual([]);
    });

    it('required multiple relation: a delete that would leave an owner empty is refused', async () => {
      t = await freshDatabase(dialect);
      await apply(t, rel({ maxSelect: 5, required: true }));
      const j = junctionName('items', 'ref');
      await t.db.knex('targets').insert([{ id: 't1' }, { id: 't2' }, { id: 't3' }]);
      await t.db.knex('items').insert([{ id: 'a' }, { id: 'b' }]);
      await t.db.knex(j).insert([
        { owner_id: 'a', target_id: 't1', position: 0 },
        { owner_id: 'a', target_id: 't2', position: 1 },
        { owner_id: 'b', target_id: 't3', position: 0 },
      ]);
      await t.db.knex('targets').where({ id: 't1' }).delete(); // a keeps t2
      expect(await t.db.knex(j).orderBy('owner_id').pluck('target_id')).toEqual(['t2', 't3']);
      await expect(t.db.knex('targets').where({ id: 't3' }).delete()).rejects.toThrow(/galley_required_relation/);
      expect(await t.db.knex('targets').orderBy('id').pluck('id')).toEqual(['t2', 't3']);
    });

    it('non-required multiple relation: deleting a target removes it from the list, order kept', async () => {
      t = await freshDatabase(dialect);
      await apply(t, rel({ maxSelect: 5 }));
      const j = junctionName('items', 'ref');
      await t.db.knex('targets').insert([{ id: 't1' }, { id: 't2' }, { id: 't3' }]);
      await t.db.knex('items').insert([{ id: 'a' }]);
      await t.db.knex(j).insert(['t3', 't1', 't2'].map((target_id, position) => ({ owner_id: 'a', target_id, position })));
      await t.db.knex('targets').where({ id: 't1' }).delete();
      expect(await t.db.knex(j).orderBy('position').pluck('target_id')).toEqual(['t3', 't2']);
      expect(await t.db.knex('items').pluck('id')).toEqual(['a']);
    });
  });

  it('records each migration in the history table', async () => {
    t = await freshDatabase(dialect);
    const v1 = [base('items', [text('title')])];
    const v2 = [base('items', [text('title'), { name: 'n', type: 'number' }])];
    const first = await apply(t, v1);
    expect((await apply(t, v1)).applied).toBe(false);
    const second = await apply(t, v2);
    const history = await readHistory(knexExecutor(t.db.knex));
    expect(history).toHaveLength(2);
    expect(history.map((h) => h.checksum)).toEqual([first.plan.checksum, second.plan.checksum]);
    expect(history[0]!.checksum).toBe(schemaOf(...v1).checksum);
    expect(history[1]!.plan.steps).toEqual([{ kind: 'add_column', risk: 'safe', target: 'items.n', summary: 'add column items.n (number)' }]);
    expect(history[1]!.sql).toMatch(/ALTER TABLE "items" ADD COLUMN "n"/);
    expect(history[0]!.sql).toMatch(/CREATE TABLE "items"/);
    expect(history[1]!.appliedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(history[1]!.appliedAt.replace(' ', 'T')) - Date.now())).toBeLessThan(60_000);
    const snapshot = await t.db.knex(HISTORY_TABLE).orderBy('id', 'desc').first();
    expect(JSON.parse(String(snapshot.snapshot)).map((c: { name: string }) => c.name)).toContain('items');
  });
});
