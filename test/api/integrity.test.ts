/**
 * Data integrity of the write pipeline (issue 9, items 1, 2 and 6): read-modify-writes of
 * relation lists under concurrency, cascades resolved record by record as PocketBase does
 * (through REST and /api/batch), and the last superuser. Requests go over a real socket, so
 * concurrent ones really overlap (PostgreSQL row locks; SQLite's one writer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;

const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const rel = (name: string, collection: string, extra: Json = {}) => ({ name, type: 'relation', collection, maxSelect: 1, ...extra });
const COLLECTIONS: Json[] = [
  { name: 'books', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }] },
  // multiple + cascade: deleting a book takes it off the shelf; an emptied shelf goes too
  { name: 'shelves', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }, rel('books', 'books', { maxSelect: 999, cascadeDelete: true })] },
  // single + cascade, and a cascade below it (nested)
  { name: 'reviews', type: 'base', ...open, fields: [{ name: 'body', type: 'text' }, rel('book', 'books', { required: true, cascadeDelete: true })] },
  { name: 'replies', type: 'base', ...open, fields: [{ name: 'body', type: 'text' }, rel('review', 'reviews', { cascadeDelete: true })] },
  // single required, no cascade: the delete is refused
  { name: 'loans', type: 'base', ...open, fields: [rel('book', 'books', { required: true })] },
  // single optional: the reference is cleared
  { name: 'notes', type: 'base', ...open, fields: [{ name: 'text', type: 'text' }, rel('book', 'books')] },
  // multiple required, no cascade: losing one of several ids is fine, losing the last is refused
  { name: 'lists', type: 'base', ...open, fields: [rel('books', 'books', { maxSelect: 999, required: true })] },
  // multiple optional, no cascade: the id is removed
  { name: 'wishes', type: 'base', ...open, fields: [rel('books', 'books', { maxSelect: 999 })] },
];

describe.each(DIALECTS)('write pipeline integrity (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  let n = 0;

  async function call(method: string, path: string, body?: unknown, token: string | null = su): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = {};
    if (token) headers['Authorization'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
  }
  const url = (collection: string, id?: string) => `/api/collections/${collection}/records${id ? `/${id}` : ''}`;
  async function create(collection: string, data: Json): Promise<string> {
    const res = await call('POST', url(collection), data);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return String(res.body['id']);
  }
  async function get(collection: string, id: string): Promise<Json | null> {
    const res = await call('GET', url(collection, id));
    return res.status === 404 ? null : res.body;
  }
  const books = async (count: number) => Promise.all(Array.from({ length: count }, () => create('books', { title: `book ${++n}` })));

  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS);
    base = await t.listen();
    su = await t.superuserToken();
  });
  afterAll(async () => t?.close());

  describe('relation lists under concurrency (read after the row lock)', () => {
    it('50 concurrent appends (`books+`) to one record all land', async () => {
      const ids = await books(50);
      const shelf = await create('shelves', { name: 'appends' });
      const results = await Promise.all(ids.map((id) => call('PATCH', url('shelves', shelf), { 'books+': id })));
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
      expect(new Set((await get('shelves', shelf))!['books'] as string[])).toEqual(new Set(ids));
    });

    it('50 concurrent removes (`books-`) leave exactly nothing', async () => {
      const ids = await books(50);
      const shelf = await create('wishes', { books: ids });
      const results = await Promise.all(ids.map((id) => call('PATCH', url('wishes', shelf), { 'books-': id })));
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
      expect((await get('wishes', shelf))!['books']).toEqual([]);
    });

    it('25 removes and 25 appends at once leave exactly the appended ids', async () => {
      const [old, added] = [await books(25), await books(25)];
      const shelf = await create('wishes', { books: old });
      const requests = old.flatMap((id, i) => [call('PATCH', url('wishes', shelf), { 'books-': id }), call('PATCH', url('wishes', shelf), { 'books+': added[i] })]);
      expect((await Promise.all(requests)).every((r) => r.status === 200)).toBe(true);
      expect(new Set((await get('wishes', shelf))!['books'] as string[])).toEqual(new Set(added));
    });
  });

  describe('cascades (PocketBase semantics, each record through the pipeline)', () => {
    it('multiple + cascadeDelete: the owner only loses the id until its list is empty', async () => {
      const [a, b, c] = await books(3);
      const shelf = await create('shelves', { name: 'abc', books: [a, b, c] });
      expect((await call('DELETE', url('books', a!))).status).toBe(204);
      expect((await get('shelves', shelf))!['books']).toEqual([b, c]);
      expect((await call('DELETE', url('books', b!))).status).toBe(204);
      expect((await get('shelves', shelf))!['books']).toEqual([c]);
      expect((await call('DELETE', url('books', c!))).status).toBe(204);
      expect(await get('shelves', shelf)).toBeNull();
    });

    it('single + cascadeDelete, nested: a book takes its reviews, a review its replies', async () => {
      const [book] = await books(1);
      const review = await create('reviews', { body: 'r', book });
      const reply = await create('replies', { body: 'x', review });
      const unrelated = await create('replies', { body: 'y' });
      expect((await call('DELETE', url('books', book!))).status).toBe(204);
      expect(await get('reviews', review)).toBeNull();
      expect(await get('replies', reply)).toBeNull();
      expect(await get('replies', unrelated)).not.toBeNull();
    });

    it('single optional: the reference is cleared, the rest kept', async () => {
      const [book] = await books(1);
      const note = await create('notes', { text: 'n', book });
      expect((await call('DELETE', url('books', book!))).status).toBe(204);
      const after = (await get('notes', note))!;
      expect(after['book']).toBe('');
      expect(after['text']).toBe('n');
    });

    it('single required without cascade: the delete is refused and nothing changes', async () => {
      const [book] = await books(1);
      const loan = await create('loans', { book });
      const res = await call('DELETE', url('books', book!));
      expect(res.status).toBe(400);
      expect(res.body['code']).toBe('delete_failed');
      expect(await get('books', book!)).not.toBeNull();
      expect((await get('loans', loan))!['book']).toBe(book);
    });

    it('multiple required without cascade: losing one id is fine, losing the last is refused', async () => {
      const [a, b] = await books(2);
      const list = await create('lists', { books: [a, b] });
      expect((await call('DELETE', url('books', a!))).status).toBe(204);
      expect((await get('lists', list))!['books']).toEqual([b]);
      const refused = await call('DELETE', url('books', b!));
      expect(refused.status).toBe(400);
      expect((await get('lists', list))!['books']).toEqual([b]);
    });

    it('a refusal deep in a cascade rolls the whole delete back', async () => {
      const [book] = await books(1);
      const shelf = await create('shelves', { name: 'only', books: [book] });
      const review = await create('reviews', { body: 'r', book });
      await create('loans', { book });
      expect((await call('DELETE', url('books', book!))).status).toBe(400);
      expect((await get('shelves', shelf))!['books']).toEqual([book]);
      expect(await get('reviews', review)).not.toBeNull();
    });

    it('the same through /api/batch, and a failing batch keeps everything', async () => {
      const [a, b, c] = await books(3);
      const shelf = await create('shelves', { name: 'batch', books: [a, b] });
      const review = await create('reviews', { body: 'r', book: c });
      const ok = await call('POST', '/api/batch', { requests: [{ method: 'DELETE', url: url('books', a) }, { method: 'DELETE', url: url('books', c) }] });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect((await get('shelves', shelf))!['books']).toEqual([b]);
      expect(await get('reviews', review)).toBeNull();
      const failing = await call('POST', '/api/batch', { requests: [{ method: 'DELETE', url: url('books', b) }, { method: 'DELETE', url: url('books', 'missing0000000x') }] });
      expect(failing.status).toBe(400);
      expect((await get('shelves', shelf))!['books']).toEqual([b]);
      expect(await get('books', b!)).not.toBeNull();
    });

    it('a reference cycle (a record referencing itself) does not loop', async () => {
      const [book] = await books(1);
      const note = await create('notes', { text: 'self', book });
      expect((await call('DELETE', url('notes', note))).status).toBe(204);
      expect(await get('books', book!)).not.toBeNull();
    });
  });

  describe('the last superuser', () => {
    it('cannot be deleted (400, as PocketBase); another one can', async () => {
      const other = await create('_superusers', { email: `second${Date.now()}@example.com`, password: 'password123', passwordConfirm: 'password123' });
      expect((await call('DELETE', url('_superusers', other))).status).toBe(204);
      const rows = await t.app.db.runner().all('SELECT "id" FROM "_superusers"', []);
      expect(rows).toHaveLength(1);
      const last = await call('DELETE', url('_superusers', String(rows[0]!['id'])));
      expect(last.status).toBe(400);
      expect(last.body['message']).toBe("You can't delete the only existing superuser.");
      expect(await t.app.db.runner().all('SELECT "id" FROM "_superusers"', [])).toHaveLength(1);
    });
  });
});
