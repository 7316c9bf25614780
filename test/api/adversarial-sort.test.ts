/**
 * Adversarial sorts (issue 9): `sort` values a client may send that once answered 500 on one
 * engine, or a different order than SQLite (the reference). Every case is a real request on both
 * engines against the same data, with the order SQLite gives written out by hand.
 *
 * The class so far: sorting by a multi-valued path (multiple relation, back-relation) whose last
 * field is JSON, a JSON path or a boolean. PostgreSQL has no min(jsonb) or max(boolean), and the
 * compiler used them (`function min(jsonb) does not exist`, 500); SQLite's MIN/MAX order NULLs
 * out, numbers before text, and text by code point.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

const open = { listRule: '', viewRule: '' };
const COLLECTIONS = [
  {
    name: 'books',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'meta', type: 'json' },
      { name: 'info', type: 'json' },
      { name: 'flag', type: 'bool' },
    ],
  },
  {
    name: 'shelves',
    ...open,
    fields: [
      { name: 'label', type: 'text' },
      { name: 'open', type: 'bool' },
      { name: 'books', type: 'relation', collection: 'books', maxSelect: 10 },
    ],
  },
];

interface Book {
  title: string;
  meta: unknown;
  info: unknown;
  flag: boolean;
}

/** Books by key; a shelf holds the books named in its key (`A` holds a1, a2). */
const BOOKS: Record<string, Book> = {
  a1: { title: 'Zed', meta: 10, info: { x: 2 }, flag: false },
  a2: { title: 'apple', meta: 'b', info: { x: 'q' }, flag: false },
  b1: { title: 'Äpfel', meta: 3, info: { x: true }, flag: true },
  b2: { title: 'banana', meta: 'a', info: { x: null }, flag: false },
  c1: { title: 'cherry', meta: 'a', info: {}, flag: true },
  c2: { title: 'date', meta: 'c', info: { x: 'a' }, flag: true },
  d1: { title: 'elder', meta: null, info: { x: 10 }, flag: false },
  f1: { title: 'fig', meta: true, info: { x: 'Q' }, flag: true },
};
const SHELVES = [
  { label: 'A', open: true, books: ['a1', 'a2'] },
  { label: 'B', open: false, books: ['b1', 'b2'] },
  { label: 'C', open: true, books: ['c1', 'c2'] },
  { label: 'D', open: false, books: ['d1'] },
  { label: 'E', open: false, books: [] },
  { label: 'F', open: true, books: ['f1', 'a1'] },
];

/**
 * `sort` → the labels (shelves) or titles (books) in SQLite's order, worked out from SQLite's
 * rules: MIN ascending / MAX descending over the path's values, NULLs ignored (a shelf with none
 * sorts as NULL: first ascending, last descending), numbers before text, text by code point.
 */
const CASES: { collection: 'shelves' | 'books'; sort: string; expected: string[]; why: string }[] = [
  {
    collection: 'shelves',
    sort: 'books.meta,label',
    // A: min(10, "b") = 10; B: min(3, "a") = 3; C: '"a"'; D: only null; E: no books; F: min(true, 10) = 10.
    expected: ['D', 'E', 'B', 'A', 'F', 'C'],
    why: 'a whole JSON field through a multiple relation (min(jsonb) was a 500)',
  },
  {
    collection: 'shelves',
    sort: '-books.meta,label',
    // max: A '"b"', B '"a"', C '"c"', F 'true' (text after '"'), D and E NULL (last).
    expected: ['F', 'C', 'A', 'B', 'D', 'E'],
    why: 'the same, descending (max)',
  },
  {
    collection: 'shelves',
    sort: '-books.flag,label',
    // max(flag): A false, B true, C true, D false, E NULL, F true.
    expected: ['B', 'C', 'F', 'A', 'D', 'E'],
    why: 'a boolean through a multiple relation (max(boolean) was a 500)',
  },
  {
    collection: 'shelves',
    sort: 'books.flag,label',
    // min(flag): A false, B false, C true, D false, E NULL, F false (fig true, Zed false).
    expected: ['E', 'A', 'B', 'D', 'F', 'C'],
    why: 'a boolean ascending (min(boolean))',
  },
  {
    collection: 'shelves',
    sort: 'books.info.x,label',
    // json_extract: A min(2, 'q') = 2; B min(1 (true), NULL) = 1; C min(NULL, 'a') = 'a'; D 10; E NULL; F min('Q', 2) = 2.
    expected: ['E', 'B', 'A', 'F', 'D', 'C'],
    why: 'a JSON path through a multiple relation: booleans are 1/0, JSON null is NULL',
  },
  {
    collection: 'shelves',
    sort: '-books.info.x,label',
    // max: A 'q', B 1, C 'a', D 10, E NULL, F 'Q'; text by code point: 'q' > 'a' > 'Q'.
    expected: ['A', 'C', 'F', 'D', 'B', 'E'],
    why: 'the same, descending',
  },
  {
    collection: 'shelves',
    sort: 'books.title,label',
    // min by code point: A 'Zed' (Z < a), B 'banana' (b < Ä), C 'cherry', D 'elder', E NULL, F 'Zed'.
    expected: ['E', 'A', 'F', 'B', 'C', 'D'],
    why: 'text through a multiple relation compares by code point, not by the database locale',
  },
  {
    collection: 'books',
    sort: '-shelves_via_books.open,title',
    // max(open) of the shelves holding each book: a1 (A, F) true, a2 true, b1 false, b2 false, c1 true, c2 true, d1 false, f1 true.
    expected: ['Zed', 'apple', 'cherry', 'date', 'fig', 'banana', 'elder', 'Äpfel'],
    why: 'a boolean through a back-relation (tags?sort=-posts_via_tags.featured was a 500)',
  },
  {
    collection: 'books',
    sort: 'meta,title',
    // SQLite keeps JSON numbers as numbers (NUMERIC affinity): NULL, 3, 10, then the texts.
    expected: ['elder', 'Äpfel', 'Zed', 'banana', 'cherry', 'apple', 'date', 'fig'],
    why: 'a whole JSON field of the row itself: numbers before text on both engines',
  },
];

describe.each(DIALECTS)('adversarial sorts (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS);
    const ids: Record<string, string> = {};
    for (const [key, book] of Object.entries(BOOKS)) ids[key] = String((await t.seed('books', { ...book }))['id']);
    for (const shelf of SHELVES) await t.seed('shelves', { ...shelf, books: shelf.books.map((key) => ids[key]) });
  });
  afterAll(async () => t?.close());

  it.each(CASES)('$collection?sort=$sort: $why', async ({ collection, sort, expected }) => {
    const res = await request(t.http).get(`/api/collections/${collection}/records`).query({ sort, perPage: 100 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const key = collection === 'shelves' ? 'label' : 'title';
    expect(res.body.items.map((item: Record<string, unknown>) => item[key])).toEqual(expected);
  });
});
