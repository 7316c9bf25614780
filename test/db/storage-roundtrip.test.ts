import { afterEach, describe, expect, it } from 'vitest';
import { buildModel, decodeValue, encodeValue, junctionName, migrate, type DialectName } from '../../src/db/index.js';
import type { ColumnSpec, TableSpec } from '../../src/db/model.js';
import { fieldType, type Schema } from '../../src/schema/index.js';
import { DIALECTS, freshDatabase, type TestDatabase } from '../helpers/dialects.js';
import { schemaOf } from '../helpers/schema.js';

/** One field of every type (and both shapes of select, file and relation). */
const TARGETS = { name: 'targets', type: 'base', fields: [{ name: 'title', type: 'text' }] };
const THINGS = {
  name: 'things',
  type: 'base',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'count', type: 'number' },
    { name: 'done', type: 'bool' },
    { name: 'mail', type: 'email' },
    { name: 'site', type: 'url' },
    { name: 'body', type: 'editor' },
    { name: 'due', type: 'date' },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'status', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 },
    { name: 'labels', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
    { name: 'meta', type: 'json' },
    { name: 'avatar', type: 'file', maxSelect: 1 },
    { name: 'docs', type: 'file', maxSelect: 5 },
    { name: 'owner', type: 'relation', collection: 'targets', maxSelect: 1 },
    { name: 'members', type: 'relation', collection: 'targets', maxSelect: 5 },
    { name: 'secret', type: 'password' },
    { name: 'place', type: 'geoPoint' },
  ],
};

/** Real values per field: each must come back unchanged after encode → store → read → decode. */
const VALUES: [field: string, value: unknown][] = [
  ['title', 'hello'],
  ['title', 'ünïcødé "double" \'single\' \\ back'],
  ['count', 42],
  ['count', -1.5],
  ['count', 0.1 + 0.2],
  ['count', Number.MAX_SAFE_INTEGER],
  ['done', true],
  ['done', false],
  ['mail', 'a@example.com'],
  ['site', 'https://example.com/x?y=1'],
  ['body', '<p>Hello <b>world</b></p>'],
  ['due', '2024-01-02 03:04:05.678Z'],
  ['due', '2024-01-02 03:04:05.000Z'],
  ['due', '1999-12-31 23:59:59.999Z'],
  ['created', '2030-06-15 12:00:00.001Z'],
  ['status', 'b'],
  ['labels', ['c', 'a']],
  ['meta', { a: 1, nested: { b: [true, null, 'x'] } }],
  ['meta', [1, 'two', 3.5]],
  ['meta', 'just text'],
  ['meta', 42],
  ['meta', true],
  ['avatar', 'photo_abc123.png'],
  ['docs', ['x_1.pdf', 'y_2.txt']],
  ['owner', 'target000000001'],
  ['secret', '$2a$10$abcdefghijklmnopqrstuv'],
  ['place', { lon: 12.5, lat: -41.25 }],
];

function model(schema: Schema, name: string): TableSpec {
  const table = buildModel(schema).tables.find((t) => t.name === name);
  if (!table) throw new Error(`no table ${name}`);
  return table;
}

function column(table: TableSpec, name: string): ColumnSpec {
  const col = table.columns.find((c) => c.name === name);
  if (!col) throw new Error(`no column ${name}`);
  return col;
}

async function setup(dialect: DialectName): Promise<{ t: TestDatabase; schema: Schema; things: TableSpec }> {
  const t = await freshDatabase(dialect);
  const schema = schemaOf(TARGETS, THINGS);
  await migrate(t.db, schema, { apply: true, allowDestructive: false });
  await t.db.knex('targets').insert([{ id: 'target000000001', title: 'one' }]);
  return { t, schema, things: model(schema, 'things') };
}

describe.each(DIALECTS)('storage round trip (%s)', (dialect) => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.drop();
    t = undefined;
  });

  it('a row inserted with only its id decodes to every field type\'s zero', async () => {
    const s = await setup(dialect);
    t = s.t;
    await t.db.knex('things').insert({ id: 'thing0000000001' });
    const raw = await t.db.knex('things').where({ id: 'thing0000000001' }).first();
    const fields = s.schema.byName.get('things')!.fields.filter((f) => f.name !== 'id');
    expect(fields.map((f) => f.type).sort()).toEqual(
      ['autodate', 'bool', 'date', 'editor', 'email', 'file', 'file', 'geoPoint', 'json', 'number', 'password', 'relation', 'relation', 'select', 'select', 'text', 'url'].sort(),
    );
    for (const field of fields) {
      const zero = fieldType(field.type).zero(field);
      const junction = s.things.junctions.find((j) => j.fieldId === field.id);
      if (junction) {
        const ids = await t.db.knex(junction.name).where({ owner_id: 'thing0000000001' }).orderBy('position').pluck('target_id');
        expect(ids, field.name).toEqual(zero);
        continue;
      }
      expect(decodeValue(column(s.things, field.name), raw[field.name], dialect), `${field.name} (${field.type})`).toEqual(zero);
    }
  });

  it('zero values are stored as the engine\'s own zero', async () => {
    const s = await setup(dialect);
    t = s.t;
    const row: Record<string, unknown> = { id: 'thing0000000002' };
    for (const col of s.things.columns.filter((c) => !c.primaryKey)) row[col.name] = encodeValue(col, col.zero ?? (col.kind === 'ref' ? '' : null), dialect);
    await t.db.knex('things').insert(row);
    const nulls = await t.db.knex('things').whereNull('owner').whereNull('meta').where({ id: 'thing0000000002' }).count({ n: '*' });
    expect(Number(nulls[0]!['n'])).toBe(1);
    const raw = await t.db.knex('things').where({ id: 'thing0000000002' }).first();
    if (dialect === 'sqlite') {
      expect(raw).toMatchObject({ done: 0, due: '', created: '', labels: '[]', docs: '[]', owner: null, meta: null });
      expect(JSON.parse(String(raw['place']))).toEqual({ lon: 0, lat: 0 });
    } else {
      expect(raw).toMatchObject({ done: false, due: '-infinity', created: '-infinity', labels: [], docs: [], owner: null, meta: null, place: { lon: 0, lat: 0 } });
    }
  });

  it.each(VALUES)('%s = %j round-trips', async (name, value) => {
    const s = await setup(dialect);
    t = s.t;
    const col = column(s.things, name);
    await t.db.knex('things').insert({ id: 'thing0000000003', [name]: encodeValue(col, value, dialect) });
    const raw = await t.db.knex('things').where({ id: 'thing0000000003' }).first();
    expect(decodeValue(col, raw[name], dialect)).toEqual(value);
  });

  it('dates sort and compare chronologically in SQL, the zero date first', async () => {
    const s = await setup(dialect);
    t = s.t;
    const due = column(s.things, 'due');
    const dates = ['2024-01-02 03:04:05.678Z', '', '1999-12-31 23:59:59.999Z', '2024-01-02 03:04:05.600Z', '2100-01-01 00:00:00.000Z'];
    await t.db.knex('things').insert(dates.map((d, i) => ({ id: `thing00000001${i}`.padEnd(15, '0'), due: encodeValue(due, d, dialect) })));
    const rows = await t.db.knex('things').select('due').orderBy('due');
    expect(rows.map((r) => decodeValue(due, r['due'], dialect))).toEqual([...dates].sort());
    const after = await t.db.knex('things').where('due', '>', encodeValue(due, '2024-01-02 03:04:05.650Z', dialect) as string).select('due');
    expect(after.map((r) => decodeValue(due, r['due'], dialect)).sort()).toEqual(['2024-01-02 03:04:05.678Z', '2100-01-01 00:00:00.000Z']);
  });

  it('accepts other date forms and stores the canonical UTC form', () => {
    const due = { name: 'due', kind: 'date', fieldId: 'f', fieldType: 'date', primaryKey: false, nullable: false, zero: '' } satisfies ColumnSpec;
    expect(encodeValue(due, '2024-01-02T05:04:05.678+02:00', dialect)).toBe('2024-01-02 03:04:05.678Z');
    expect(encodeValue(due, new Date(Date.UTC(2024, 0, 2)), dialect)).toBe('2024-01-02 00:00:00.000Z');
    expect(() => encodeValue(due, 'not a date', dialect)).toThrow(/not a date/);
    expect(decodeValue(due, '2024-01-02 03:04:05.678+00', dialect)).toBe('2024-01-02 03:04:05.678Z');
    expect(decodeValue(due, '2024-01-02 05:04:05.5+02', dialect)).toBe('2024-01-02 03:04:05.500Z');
    expect(decodeValue(due, '2024-01-02 03:04:05.678123+00', dialect)).toBe('2024-01-02 03:04:05.678Z');
  });

  it('a multiple relation keeps its ids in order in the junction table', async () => {
    const s = await setup(dialect);
    t = s.t;
    const junction = s.things.junctions.find((j) => j.fieldName === 'members')!;
    expect(junction.name).toBe(junctionName('things', 'members'));
    await t.db.knex('targets').insert(['t2', 't3', 't4'].map((id) => ({ id: id.padEnd(15, '0'), title: id })));
    await t.db.knex('things').insert({ id: 'thing0000000004' });
    const ordered = ['t3', 'target000000001', 't4', 't2'].map((id) => id.padEnd(15, '0'));
    // inserted out of order on purpose: position, not insertion order, decides
    const rows = ordered.map((target_id, position) => ({ owner_id: 'thing0000000004', target_id, position })).reverse();
    await t.db.knex(junction.name).insert(rows);
    const ids = await t.db.knex(junction.name).where({ owner_id: 'thing0000000004' }).orderBy('position').pluck('target_id');
    expect(ids).toEqual(ordered);
    // the junction is a real foreign key on both ends
    await expect(t.db.knex(junction.name).insert({ owner_id: 'thing0000000004', target_id: 'missing00000000', position: 9 })).rejects.toThrow(/foreign key/i);
    await t.db.knex('targets').where({ id: 't3'.padEnd(15, '0') }).delete();
    const left = await t.db.knex(junction.name).where({ owner_id: 'thing0000000004' }).orderBy('position').pluck('target_id');
    expect(left).toEqual(ordered.filter((id) => !id.startsWith('t3')));
  });
});
