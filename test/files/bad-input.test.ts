/**
 * Bad multipart bodies get clear 400s (413 past the body limit) and leave nothing behind: no
 * stored object, no temp file. Sent raw, since a well-behaved client cannot produce them.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { FILE_COLLECTIONS, spooled, storedKeys } from './fixtures.js';

const BOUNDARY = 'galleyboundary';
const LIMIT = 64 * 1024;

const tiny = { name: 'tiny', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'small', type: 'file', maxSelect: 1, maxSize: 100 }] };

function part(headers: string, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]);
}
const fileHeaders = (name: string, filename: string) => `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/plain`;
const end = Buffer.from(`--${BOUNDARY}--\r\n`);

/** Sends a raw multipart body; `chunked` streams it without a Content-Length (so only the stream count can stop it). */
function send(base: string, path: string, chunks: Buffer[], opts: { chunked?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const headers: Record<string, string> = { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` };
    if (!opts.chunked) headers['Content-Length'] = String(total);
    const req = httpRequest(`${base}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    const write = (i: number) => {
      if (i === chunks.length) return req.end();
      if (req.write(chunks[i]!)) write(i + 1);
      else req.once('drain', () => write(i + 1));
    };
    write(0);
  });
}

describe.each(DIALECTS)('bad multipart input (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp(dialect, [...FILE_COLLECTIONS, tiny], { maxBodyBytes: LIMIT });
    base = await t.listen();
  });
  afterAll(async () => t?.close());

  async function expectNothingLeft(): Promise<void> {
    expect(await storedKeys(t)).toEqual([]);
    expect(await spooled(t)).toEqual([]);
  }

  it('a body past GALLEY_MAX_BODY_BYTES (+ the fields\' sizes) is cut while streaming: 413, temp file removed', async () => {
    const big = Buffer.alloc(16 * 1024, 'x');
    const chunks = [part(fileHeaders('small', 'big.txt'), ''), ...Array.from({ length: 8 }, () => big), end];
    const res = await send(base, '/api/collections/tiny/records', chunks, { chunked: true });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ status: 413, message: 'Request entity too large.' });
    await expectNothingLeft();
    // With a Content-Length it is refused before reading.
    expect((await send(base, '/api/collections/tiny/records', chunks)).status).toBe(413);
    await expectNothingLeft();
  });

  it.each([
    ['chunked (spooled to disk)', true],
    ['with a small Content-Length (held in memory)', false],
  ])("a file over its field's maxSize is cut at the limit and answered 400 validation_file_size_limit: %s", async (_how, chunked) => {
    const res = await send(base, '/api/collections/tiny/records', [part(fileHeaders('small', 'a.txt'), 'y'.repeat(5000)), end], { chunked });
    expect(res.status).toBe(400);
    expect(res.body['data']).toMatchObject({ small: { code: 'validation_file_size_limit', params: { maxSize: 100 } } });
    await expectNothingLeft();
  });

  it('a truncated body (no closing boundary) is a 400', async () => {
    const res = await send(base, '/api/collections/docs/records', [part(fileHeaders('file', 'a.txt'), 'half').subarray(0, 60)]);
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('Failed to load the submitted data due to invalid formatting.');
    await expectNothingLeft();
  });

  it('a part without a name is a 400', async () => {
    const res = await send(base, '/api/collections/docs/records', [part('Content-Disposition: form-data; filename="a.txt"', 'data'), end]);
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('Every form part needs a name.');
    await expectNothingLeft();
  });

  it('10,000 tiny parts are a 400', async () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => part(`Content-Disposition: form-data; name="f${i}"`, 'x'));
    const res = await send(base, '/api/collections/docs/records', [...parts, end]);
    expect(res.status).toBe(400);
    expect(res.body['message']).toMatch(/at most 1000 parts/);
    await expectNothingLeft();
  });

  it.each([
    ['a 10 kB file name', 'n'.repeat(10_000) + '.txt'],
    ['a path', 'dir/evil.txt'],
    ['a Windows path', 'dir\\\\evil.txt'],
    ['a parent reference', '..'],
  ])('%s is a 400 validation_invalid_file_name', async (_name, filename) => {
    const res = await send(base, '/api/collections/docs/records', [part(fileHeaders('file', filename), 'data'), end]);
    expect(res.status).toBe(400);
    expect(res.body['data']).toMatchObject({ file: { code: 'validation_invalid_file_name' } });
    await expectNothingLeft();
  });

  it('a NUL byte in the part headers is a 400 (the parser refuses the header)', async () => {
    const res = await send(base, '/api/collections/docs/records', [part(fileHeaders('file', 'a\u0000b.txt'), 'data'), end]);
    expect(res.status).toBe(400);
    expect(res.body['message']).toBe('Failed to load the submitted data due to invalid formatting.');
    await expectNothingLeft();
  });

  it('a name with ../ inside a plain file name is cleaned by the naming rules, never a path', async () => {
    const res = await send(base, '/api/collections/docs/records', [part(fileHeaders('file', '..evil..name..txt'), 'data'), end]);
    expect(res.status).toBe(200);
    expect(res.body['file']).toMatch(/^evil_name_[a-z0-9]{10}\.\.txt$/);
    const keys = await storedKeys(t);
    expect(keys).toHaveLength(1);
    await t.app.db.runner().run('DELETE FROM "docs"', []);
    await t.files.storage.deletePrefix(keys[0]!.split('/')[0] + '/');
  });
});
