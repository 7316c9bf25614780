import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_DIST, REFERENCE_ASSETS } from '../../src/http/index.js';
import { COMPRESSION_THRESHOLD, compressResponses } from '../../src/http/compression.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  /** The bytes on the wire (not decompressed). */
  body: Buffer;
}

/** A request whose response body is read as sent: fetch and supertest would decompress it. */
function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(res: RawResponse): Buffer {
  const encoding = res.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(res.body);
  if (encoding === 'gzip') return gunzipSync(res.body);
  return res.body;
}

describe.each(DIALECTS)('JSON responses are compressed by Accept-Encoding (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    for (let i = 0; i < 30; i++) await t.seed('tags', { name: `tag number ${i} with a longer name`, color: '#00ff00' });
    base = await t.listen();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['br;q=0.1, gzip', 'gzip'],
  ])('Accept-Encoding: %s → %s, the same JSON once decoded', async (accept, expected) => {
    const plain = await raw(base, '/api/collections/tags/records?perPage=30', { 'Accept-Encoding': 'identity' });
    const res = await raw(base, '/api/collections/tags/records?perPage=30', { 'Accept-Encoding': accept });
    expect(plain.body.length).toBeGreaterThan(COMPRESSION_THRESHOLD);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-encoding']).toBe(expected);
    expect(res.headers['vary']).toMatch(/Accept-Encoding/i);
    expect(res.body.length).toBeLessThan(plain.body.length / 3);
    expect(JSON.parse(decode(res).toString())).toEqual(JSON.parse(plain.body.toString()));
  });

  it('no Accept-Encoding, or identity only: sent as is', async () => {
    expect((await raw(base, '/api/collections/tags/records')).headers['content-encoding']).toBeUndefined();
    expect((await raw(base, '/api/collections/tags/records', { 'Accept-Encoding': 'identity' })).headers['content-encoding']).toBeUndefined();
    expect((await raw(base, '/api/collections/tags/records', { 'Accept-Encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
  });

  it('bodies under 1 KB are sent as they are', async () => {
    const health = await raw(base, '/api/health', { 'Accept-Encoding': 'gzip, br' });
    expect(health.body.length).toBeLessThan(COMPRESSION_THRESHOLD);
    expect(health.headers['content-encoding']).toBeUndefined();
    const small = await raw(base, '/api/collections/tags/records?perPage=1', { 'Accept-Encoding': 'gzip, br' });
    expect(small.body.length).toBeLessThan(COMPRESSION_THRESHOLD);
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('an answer sent as is carries its Content-Length (one write, not chunked); a compressed one does not', async () => {
    for (const path of ['/api/collections/tags/records?perPage=1', '/api/collections/tags/records?perPage=30']) {
      const res = await raw(base, path);
      expect(res.headers['transfer-encoding'], path).toBeUndefined();
      expect(Number(res.headers['content-length']), path).toBe(res.body.length);
    }
    const zipped = await raw(base, '/api/collections/tags/records?perPage=30', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-length']).toBeUndefined();
    expect(JSON.parse(decode(zipped).toString())).toMatchObject({ perPage: 30 });
  });

  it('errors and the OpenAPI document are compressed too when large', async () => {
    const doc = await raw(base, '/api/openapi.json', { 'Accept-Encoding': 'br' });
    expect(doc.headers['content-encoding']).toBe('br');
    expect(JSON.parse(decode(doc).toString())).toMatchObject({ openapi: '3.1.0' });
  });
});

describe('what is never compressed', () => {
  let server: ReturnType<express.Express['listen']>;
  let base: string;
  let releaseSecondEvent!: () => void;
  const secondEventAllowed = new Promise<void>((r) => (releaseSecondEvent = r));
  const bigText = 'x'.repeat(4 * COMPRESSION_THRESHOLD);

  beforeAll(async () => {
    const app = express();
    app.use(compressResponses());
    // An SSE stream: the first event must reach the client before the second is written.
    app.get('/events', async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      res.write(`event:first\ndata:${bigText}\n\n`);
      await secondEventAllowed;
      res.end(`event:second\ndata:${bigText}\n\n`);
    });
    app.get('/image.png', (_req, res) => res.type('png').send(Buffer.alloc(8 * COMPRESSION_THRESHOLD, 1)));
    app.get('/archive.zip', (_req, res) => res.type('application/zip').send(Buffer.alloc(8 * COMPRESSION_THRESHOLD, 1)));
    app.get('/api/files/c/r/notes.txt', (_req, res) => res.type('text/plain').send(bigText));
    app.get('/other.txt', (_req, res) => res.type('text/plain').send(bigText));
    await new Promise<void>((done) => (server = app.listen(0, '127.0.0.1', () => done())));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    releaseSecondEvent();
    await new Promise((r) => server?.close(r));
  });

  it('server-sent events: uncompressed, each event delivered as it is written', async () => {
    const firstEvent = await new Promise<{ headers: IncomingMessage['headers']; text: string; res: IncomingMessage }>((resolve, reject) => {
      const req = httpRequest(new URL('/events', base), { headers: { 'Accept-Encoding': 'gzip, br' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('\n\n')) resolve({ headers: res.headers, text, res });
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(firstEvent.headers['content-encoding']).toBeUndefined();
    expect(firstEvent.text.startsWith('event:first\n')).toBe(true);
    releaseSecondEvent();
    const rest = await new Promise<string>((resolve) => {
      let text = '';
      firstEvent.res.on('data', (c: string) => (text += c));
      firstEvent.res.on('end', () => resolve(text));
    });
    expect(rest).toContain('event:second');
  });

  it.each(['/image.png', '/archive.zip'])('already-compressed types (%s) are sent as they are', async (path) => {
    const res = await raw(base, path, { 'Accept-Encoding': 'gzip, br' });
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('stored files under /api/files are sent as stored, even text; other text is compressed', async () => {
    expect((await raw(base, '/api/files/c/r/notes.txt', { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBeUndefined();
    expect((await raw(base, '/other.txt', { 'Accept-Encoding': 'gzip' })).headers['content-encoding']).toBe('gzip');
  });
});

const ADMIN_BUILT = existsSync(join(ADMIN_DIST, 'index.html'));
const CI = Boolean(process.env['CI']);
if (!ADMIN_BUILT && !CI) console.warn('[compression] precompressed assets: admin/dist is not built (npm run build:admin); skipped. Set CI=1 to make this a failure.');

describe.skipIf(!ADMIN_BUILT && !CI)('the admin panel and reference assets are precompressed at build', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp('sqlite', undefined, { admin: true });
    base = await t.listen();
  });
  afterAll(async () => {
    await t?.close();
  });

  const assets = () => {
    const dir = join(ADMIN_DIST, 'assets');
    const js = readdirSync(dir).find((f) => f.endsWith('.js'))!;
    return [
      { url: `/_/assets/${js}`, file: join(dir, js) },
      { url: '/api/docs/assets/redoc.standalone.js', file: join(REFERENCE_ASSETS, 'redoc.standalone.js') },
    ];
  };

  it('every compressible file of 1 KB or more has a .br and a .gz next to it', () => {
    for (const { file } of assets()) {
      expect(existsSync(`${file}.br`), `${file}.br`).toBe(true);
      expect(existsSync(`${file}.gz`), `${file}.gz`).toBe(true);
      expect(brotliDecompressSync(readFileSync(`${file}.br`)).equals(readFileSync(file))).toBe(true);
      expect(gunzipSync(readFileSync(`${file}.gz`)).equals(readFileSync(file))).toBe(true);
    }
  });

  it.each([
    ['br', 'br', '.br'],
    ['gzip', 'gzip', '.gz'],
    ['gzip, deflate, br', 'br', '.br'],
    ['identity', undefined, ''],
  ])('Accept-Encoding: %s → the %s variant, byte for byte, with the right headers', async (accept, encoding, suffix) => {
    for (const { url, file } of assets()) {
      const res = await raw(base, url, { 'Accept-Encoding': accept });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(encoding);
      expect(String(res.headers['content-type']).toLowerCase()).toBe('text/javascript; charset=utf-8');
      expect(res.headers['vary']).toMatch(/Accept-Encoding/);
      expect(res.body.equals(readFileSync(`${file}${suffix}`))).toBe(true);
    }
  });
});
