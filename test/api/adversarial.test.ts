/**
 * Adversarial inputs found by attacking Galley as an outsider would (issue 9): each class of
 * request that once answered a 500, hung, or did work without a bound gets a table row here,
 * with the exact request, on both engines. The class list grows with every new finding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

type Json = Record<string, unknown>;

const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const COLLECTIONS: Json[] = [
  { name: 'authors', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] },
  { name: 'shelves', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }, { name: 'authors', type: 'relation', collection: 'authors', maxSelect: 100000 }] },
];

describe.each(DIALECTS)('adversarial requests (%s)', (dialect) => {
  let t: TestApp;
  let base = '';
  let su = '';
  const errors: string[] = [];

  async function call(method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { Authorization: su, ...opts.headers };
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : {}) as Json };
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, COLLECTIONS);
    base = await t.listen();
    su = await t.superuserToken();
    t.app.log.error = ((o: unknown) => errors.push(JSON.stringify(o))) as typeof t.app.log.error;
  });
  afterAll(async () => t?.close());

  describe('batch sub-requests that once answered 500', () => {
    const cases: [string, Json, string, string][] = [
      ['a URL that cannot be percent-decoded', { method: 'POST', url: '/api/collections/authors/records/%' }, 'url', 'validation_invalid_url'],
      ['a URL that cannot be parsed', { method: 'POST', url: 'http://[::1' }, 'url', 'validation_invalid_url'],
      ['a URL naming another host', { method: 'POST', url: 'http://evil.example/api/collections/authors/records', body: { name: 'x' } }, 'url', 'validation_invalid_url'],
      ['a protocol-relative URL', { method: 'POST', url: '//evil.example/api/collections/authors/records', body: { name: 'x' } }, 'url', 'validation_invalid_url'],
      ['a non-string If-Match header', { method: 'PATCH', url: '/api/collections/authors/records/abc', headers: { 'If-Match': 12 } }, 'headers', 'validation_invalid_headers'],
      ['headers that are not an object', { method: 'POST', url: '/api/collections/authors/records', headers: ['x'] }, 'headers', 'validation_invalid_headers'],
      ['no method', { url: '/api/collections/authors/records' }, 'method', 'validation_required'],
      ['no url', { method: 'POST' }, 'url', 'validation_required'],
      ['an unknown method', { method: 'TRACE', url: '/api/collections/authors/records' }, 'method', 'validation_in_invalid'],
    ];
    it.each(cases)('%s → 400 naming the key, nothing written', async (_name, sub, key, code) => {
      const before = await t.app.db.runner().all('SELECT COUNT(*) AS "n" FROM "authors"', []);
      const res = await call('POST', '/api/batch', { body: { requests: [sub] } });
      expect(res.status, res.text).toBe(400);
      expect(res.body['code']).toBe('batch_invalid');
      expect(((res.body['data'] as Json)['requests'] as Json)['0']).toMatchObject({ [key]: { code } });
      expect(await t.app.db.runner().all('SELECT COUNT(*) AS "n" FROM "authors"', [])).toEqual(before);
    });
  });

  it('expands a relation holding 70,000 ids (no SQL variable limit)', async () => {
    const ids = Array.from({ length: 70_000 }, (_, i) => `a${String(i).padStart(14, '0')}`);
    const runner = t.app.db.runner();
    await runner.transaction(async (tx) => {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await tx.run(`INSERT INTO "authors" ("id", "name", "_galley_version") VALUES ${chunk.map(() => "(?, '', 1)").join(', ')}`, chunk);
      }
      await tx.run(`INSERT INTO "shelves" ("id", "name", "_galley_version") VALUES ('bigshelf0000000', 'big', 1)`, []);
      for (let i = 0; i < ids.length; i += 300) {
        const chunk = ids.slice(i, i + 300);
        await tx.run(`INSERT INTO "_galley_rel_shelves__authors" ("owner_id", "target_id", "position") VALUES ${chunk.map(() => "('bigshelf0000000', ?, ?)").join(', ')}`, chunk.flatMap((id, j) => [id, i + j]));
      }
    });
    const res = await call('GET', '/api/collections/shelves/records/bigshelf0000000?expand=authors&fields=id,expand.authors.id');
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(((res.body['expand'] as Json)['authors'] as unknown[]).length).toBe(70_000);
    const back = await call('GET', `/api/collections/authors/records/${ids[0]}?expand=shelves_via_authors&fields=id,expand.shelves_via_authors.id`);
    expect(back.status, back.text.slice(0, 300)).toBe(200);
  });

  it('validates a relation value of 70,000 ids on update without a 500', async () => {
    const ids = Array.from({ length: 70_000 }, (_, i) => `a${String(i).padStart(14, '0')}`);
    const res = await call('PATCH', '/api/collections/shelves/records/bigshelf0000000', { body: { authors: [...ids.slice(0, 69_999), 'missing00000000'] } });
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect((res.body['data'] as Json)['authors']).toMatchObject({ code: 'validation_missing_rel_records' });
  });

  it('answers a URL over 64 KiB with the JSON error shape (431), not a bare status line', async () => {
    const res = await call('GET', `/api/collections/authors/records?filter=${'x'.repeat(70 * 1024)}`);
    expect(res.status).toBe(431);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ status: 431, code: 'request_header_too_large' });
  });

  it('logged no unexpected error', () => {
    expect(errors).toEqual([]);
  });
});
