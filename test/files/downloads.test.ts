/**
 * `GET /api/files/{collection}/{record}/{filename}` (§10): 404 rules, headers, ranges,
 * conditional requests, the type from the content; protected files with file tokens.
 */
import PocketBase from 'pocketbase';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';
import { recordToken } from '../helpers/scenario.js';
import { binary, FILE_COLLECTIONS, png } from './fixtures.js';

describe.each(DIALECTS)('file downloads (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;
  let doc: Record<string, unknown> & { id: string };
  const text = 'The quick brown fox jumps over the lazy dog';

  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS);
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
    doc = await pb.collection('docs').create({
      title: 'dl',
      file: new File([text], 'notes.bin', { type: 'application/octet-stream' }),
      image: new File([new Uint8Array(await png(8, 6))], 'photo.png'),
    });
  });
  afterAll(async () => t?.close());

  const url = (name: string, query = '') => `/api/files/docs/${doc.id}/${name}${query}`;

  it('serves the file with PocketBase headers and the type detected from the content', async () => {
    const res = await request(t.http).get(url(String(doc['file']))).buffer(true).parse(binary).expect(200);
    expect((res.body as Buffer).toString()).toBe(text);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename=${String(doc['file'])}`);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox");
    expect(res.headers['cache-control']).toBe('max-age=2592000, stale-while-revalidate=86400');
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(text.length));
    expect(res.headers['etag']).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers['last-modified']).toBeTruthy();
  });

  it('images are inline unless ?download=1|true; the collection may be named by id', async () => {
    const img = await request(t.http).get(url(String(doc['image']))).expect(200);
    expect(img.headers['content-type']).toBe('image/png');
    expect(img.headers['content-disposition']).toBe(`inline; filename=${String(doc['image'])}`);
    for (const q of ['?download=1', '?download=true']) {
      const dl = await request(t.http).get(url(String(doc['image']), q)).expect(200);
      expect(dl.headers['content-disposition']).toBe(`attachment; filename=${String(doc['image'])}`);
    }
    const byId = await request(t.http).get(`/api/files/${String(doc['collectionId'])}/${doc.id}/${String(doc['image'])}`);
    expect(byId.status).toBe(200);
  });

  it('the SDK builds working URLs (getURL)', async () => {
    const href = pb.files.getURL(doc, String(doc['file']));
    const res = await fetch(href);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(text);
  });

  it('404 when the collection, the record or the name (in any file field) is missing', async () => {
    const name = String(doc['file']);
    for (const path of [`/api/files/nope/${doc.id}/${name}`, `/api/files/docs/nope/${name}`, `/api/files/docs/${doc.id}/other_abcdefghij.txt`, `/api/files/docs/${doc.id}/..`]) {
      const res = await request(t.http).get(path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ status: 404 });
    }
  });

  it('ranges: start-end, open end, suffix; 416 beyond the end', async () => {
    const name = String(doc['file']);
    const part = await request(t.http).get(url(name)).set('Range', 'bytes=4-8').buffer(true).parse(binary).expect(206);
    expect((part.body as Buffer).toString()).toBe('quick');
    expect(part.headers['content-range']).toBe(`bytes 4-8/${text.length}`);
    expect(part.headers['content-length']).toBe('5');
    const open = await request(t.http).get(url(name)).set('Range', 'bytes=40-').buffer(true).parse(binary).expect(206);
    expect((open.body as Buffer).toString()).toBe('dog');
    const suffix = await request(t.http).get(url(name)).set('Range', 'bytes=-3').buffer(true).parse(binary).expect(206);
    expect((suffix.body as Buffer).toString()).toBe('dog');
    const bad = await request(t.http).get(url(name)).set('Range', 'bytes=999-').expect(416);
    expect(bad.headers['content-range']).toBe(`bytes */${text.length}`);
  });

  it('a file bigger than one read (streamed from its open file): whole, ranged, HEAD', async () => {
    const bytes = Buffer.alloc(200 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
    const big = await pb.collection('docs').create({ title: 'big', file: new File([bytes], 'big.bin') });
    const at = `/api/files/docs/${big.id}/${String(big['file'])}`;
    const whole = await request(t.http).get(at).buffer(true).parse(binary).expect(200);
    expect(Buffer.compare(whole.body as Buffer, bytes)).toBe(0);
    expect(whole.headers['content-length']).toBe(String(bytes.length));
    const part = await request(t.http).get(at).set('Range', 'bytes=70000-140000').buffer(true).parse(binary).expect(206);
    expect(Buffer.compare(part.body as Buffer, bytes.subarray(70000, 140001))).toBe(0);
    const head = await request(t.http).head(at).expect(200);
    expect(head.headers['content-length']).toBe(String(bytes.length));
  });

  it('conditional requests: If-None-Match and If-Modified-Since answer 304', async () => {
    const name = String(doc['file']);
    const first = await request(t.http).get(url(name)).expect(200);
    await request(t.http).get(url(name)).set('If-None-Match', String(first.headers['etag'])).expect(304);
    await request(t.http).get(url(name)).set('If-None-Match', '"other"').expect(200);
    await request(t.http).get(url(name)).set('If-Modified-Since', String(first.headers['last-modified'])).expect(304);
    await request(t.http).get(url(name)).set('If-Modified-Since', new Date(0).toUTCString()).expect(200);
  });

  it('reports downloads to the metrics', async () => {
    await request(t.http).get(url(String(doc['file']))).expect(200);
    const { body } = await t.metrics.render(false);
    expect(body).toMatch(/galley_files_total\{direction="download"\} [1-9]/);
  });
});

describe.each(DIALECTS)('protected files (%s)', (dialect) => {
  let t: TestApp;
  let base: string;
  let owner: string;
  let ownerToken: string;
  let strangerToken: string;
  let rec: Record<string, unknown> & { id: string };

  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS);
    base = await t.listen();
    const ann = await t.seed('users', { email: 'ann@example.com', password: 'password123', passwordConfirm: 'password123' });
    const bob = await t.seed('users', { email: 'bob@example.com', password: 'password123', passwordConfirm: 'password123' });
    owner = String(ann['id']);
    ownerToken = await recordToken(t, 'users', owner);
    strangerToken = await recordToken(t, 'users', String(bob['id']));
    const pb = new PocketBase(base);
    pb.authStore.save(ownerToken, null);
    rec = await pb.collection('vault').create({ owner, paper: new File(['top secret'], 'paper.txt') });
  });
  afterAll(async () => t?.close());

  const fileUrl = (token?: string) => `/api/files/vault/${rec.id}/${String(rec['paper'])}${token ? `?token=${token}` : ''}`;

  it('POST /api/files/token: 401 without auth; a 180 s file token with PocketBase claims', async () => {
    const guest = new PocketBase(base);
    expect((await sdkError(() => guest.files.getToken())).status).toBe(401);
    const pb = new PocketBase(base);
    pb.authStore.save(ownerToken, null);
    const token = await pb.files.getToken();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ id: owner, type: 'file', collectionId: t.app.records.find('users')!.collection.id });
    expect(Number(claims['exp']) - Math.floor(Date.now() / 1000)).toBeGreaterThan(170);
    expect(Number(claims['exp']) - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(180);
  });

  it('404 without a token, with an auth token instead of a file token, or with a token the viewRule refuses', async () => {
    await request(t.http).get(fileUrl()).expect(404);
    await request(t.http).get(fileUrl(ownerToken)).expect(404);
    const stranger = new PocketBase(base);
    stranger.authStore.save(strangerToken, null);
    await request(t.http).get(fileUrl(await stranger.files.getToken())).expect(404);
    await request(t.http).get(fileUrl('garbage')).expect(404);
  });

  it("200 with the owner's file token (SDK getURL with token) and with a superuser's", async () => {
    const pb = new PocketBase(base);
    pb.authStore.save(ownerToken, null);
    const href = pb.files.getURL(rec, String(rec['paper']), { token: await pb.files.getToken() });
    const res = await fetch(href);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('top secret');
    const root = new PocketBase(base);
    root.authStore.save(await t.superuserToken(), null);
    await request(t.http).get(fileUrl(await root.files.getToken())).expect(200);
  });
});
