/**
 * S3-compatible storage against a real S3 server (s3rver on 127.0.0.1): uploads, ranges, thumbs,
 * deletes; two nodes on one database and one bucket (upload through one, download and thumb
 * through the other); GALLEY_S3_* validated at start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokens } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/index.js';
import { createFiles, S3Storage } from '../../src/files/index.js';
import { createHttpApp } from '../../src/http/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { binary, FILE_COLLECTIONS, png, storedKeys } from './fixtures.js';

describe.each(DIALECTS)('S3 storage (%s)', (dialect) => {
  let s3: TestS3;
  let t: TestApp;
  let pb: PocketBase;
  let nodeB: ReturnType<typeof createHttpApp>;
  let dataB: string;

  beforeAll(async () => {
    s3 = await startS3();
    t = await createTestApp(dialect, FILE_COLLECTIONS, { storage: new S3Storage(s3.options) });
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
    // A second node: its own HTTP app, spool folder and S3 client, on the same database and bucket.
    dataB = mkdtempSync(join(tmpdir(), 'galley-node-b-'));
    const runner = t.app.db.runner();
    const runtime = () => t.app.records;
    const files = createFiles({ dataDir: dataB, s3: s3.options, report: () => {} });
    nodeB = createHttpApp({ log: t.app.log, records: { runtime, runner, tokens: new Tokens(runner, runtime), files } });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    rmSync(dataB, { recursive: true, force: true });
  });

  it('stores uploads in the bucket under PocketBase keys and serves them with ranges', async () => {
    const rec = await pb.collection('docs').create({ title: 's3', file: new File(['hello from s3'], 'hello.txt') });
    expect(await storedKeys(t)).toContain(`${rec.collectionId}/${rec.id}/${String(rec['file'])}`);
    const res = await request(t.http).get(`/api/files/docs/${rec.id}/${String(rec['file'])}`).expect(200);
    expect(res.text).toBe('hello from s3');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const part = await request(t.http).get(`/api/files/docs/${rec.id}/${String(rec['file'])}`).set('Range', 'bytes=6-9').expect(206);
    expect(part.text).toBe('from');
  });

  it('two nodes: upload through one, download and thumb through the other', async () => {
    const rec = await pb.collection('docs').create({ image: new File([new Uint8Array(await png(80, 60))], 'shared.png') });
    const path = `/api/files/docs/${rec.id}/${String(rec['image'])}`;
    const original = await request(nodeB).get(path).buffer(true).parse(binary).expect(200);
    expect((await sharp(original.body as Buffer).metadata()).width).toBe(80);
    const thumb = await request(nodeB).get(`${path}?thumb=50x40`).buffer(true).parse(binary).expect(200);
    const meta = await sharp(thumb.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([50, 40]);
    // Node A sees the thumb node B stored.
    expect(await storedKeys(t)).toContain(`${rec.collectionId}/${rec.id}/thumbs_${String(rec['image'])}/50x40_${String(rec['image'])}`);
  });

  it('replacing and deleting remove the objects (thumbs included) after the commit', async () => {
    const rec = await pb.collection('docs').create({ image: new File([new Uint8Array(await png(20, 20))], 'gone.png') });
    await request(t.http).get(`/api/files/docs/${rec.id}/${String(rec['image'])}?thumb=100x100`).expect(200);
    const prefix = `${rec.collectionId}/${rec.id}/`;
    expect((await storedKeys(t)).filter((k) => k.startsWith(prefix))).toHaveLength(2);
    await pb.collection('docs').delete(rec.id);
    expect((await storedKeys(t)).filter((k) => k.startsWith(prefix))).toEqual([]);
  });
});

describe('GALLEY_S3_* configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({}, env, false);

  it('is off without a bucket, and complete with one', () => {
    expect(load({}).s3).toBeNull();
    expect(load({ GALLEY_S3_BUCKET: 'my-bucket', GALLEY_S3_ENDPOINT: 'http://127.0.0.1:9000', GALLEY_S3_ACCESS_KEY: 'k', GALLEY_S3_SECRET: 's', GALLEY_S3_FORCE_PATH_STYLE: 'true' }).s3).toEqual({
      bucket: 'my-bucket',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      accessKey: 'k',
      secret: 's',
      forcePathStyle: true,
    });
  });

  it.each([
    [{ GALLEY_S3_ENDPOINT: 'http://x' }, /without GALLEY_S3_BUCKET/],
    [{ GALLEY_S3_BUCKET: 'Bad_Bucket' }, /Invalid GALLEY_S3_BUCKET/],
    [{ GALLEY_S3_BUCKET: 'ok-bucket', GALLEY_S3_ENDPOINT: 'ftp://x' }, /Invalid GALLEY_S3_ENDPOINT/],
    [{ GALLEY_S3_BUCKET: 'ok-bucket', GALLEY_S3_ACCESS_KEY: 'k' }, /set both or neither/],
    [{ GALLEY_S3_BUCKET: 'ok-bucket', GALLEY_S3_FORCE_PATH_STYLE: 'maybe' }, /GALLEY_S3_FORCE_PATH_STYLE/],
  ])('refuses %j at start', (env, message) => {
    expect(() => load(env as Record<string, string>)).toThrow(message);
  });
});
