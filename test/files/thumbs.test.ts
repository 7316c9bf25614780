/**
 * Thumbs (`?thumb=`): every PocketBase kind, only for `100x100` and the field's `thumbs`, made once
 * (concurrent requests share the work), stored beside the original and removed with it.
 */
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbStats } from '../../src/files/thumbs.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { binary, FILE_COLLECTIONS, png, storedKeys } from './fixtures.js';

/** A 40x120 PNG: red top half, blue bottom half. */
async function twoTone(): Promise<Buffer> {
  const red = await sharp({ create: { width: 40, height: 60, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const blue = await sharp({ create: { width: 40, height: 60, channels: 3, background: '#0000ff' } }).png().toBuffer();
  return sharp({ create: { width: 40, height: 120, channels: 3, background: '#000' } })
    .composite([{ input: red, top: 0, left: 0 }, { input: blue, top: 60, left: 0 }])
    .png()
    .toBuffer();
}

describe.each(DIALECTS)('thumbs (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;
  let wide: Record<string, unknown> & { id: string };
  let tall: Record<string, unknown> & { id: string };

  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS);
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
    wide = await pb.collection('docs').create({ image: new File([new Uint8Array(await png(80, 60))], 'wide.png') });
    tall = await pb.collection('docs').create({ image: new File([new Uint8Array(await twoTone())], 'tall.png') });
  });
  afterAll(async () => t?.close());

  async function thumb(rec: { id: string } & Record<string, unknown>, size: string): Promise<{ width: number; height: number; type: string; data: Buffer }> {
    const res = await request(t.http).get(`/api/files/docs/${rec.id}/${String(rec['image'])}?thumb=${size}`).buffer(true).parse(binary).expect(200);
    const meta = await sharp(res.body as Buffer).metadata();
    return { width: meta.width, height: meta.height, type: String(res.headers['content-type']), data: res.body as Buffer };
  }

  it.each([
    ['100x100', 100, 100],
    ['50x40', 50, 40],
    ['50x40t', 50, 40],
    ['50x40b', 50, 40],
    ['50x40f', 50, 38],
    ['0x30', 40, 30],
    ['30x0', 30, 23],
  ])('%s of an 80x60 PNG is %dx%d', async (size, width, height) => {
    const got = await thumb(wide, size);
    expect([got.width, got.height]).toEqual([width, height]);
    expect(got.type).toBe('image/png');
  });

  it('sizes not in the field\'s thumbs (and malformed ones) serve the original', async () => {
    for (const size of ['20x20', '0x0', 'axb', '50x40x']) {
      const got = await thumb(wide, size);
      expect([got.width, got.height]).toEqual([80, 60]);
    }
  });

  it('t crops from the top, b from the bottom, the default from the centre', async () => {
    const colour = async (size: string) => {
      const { data } = await thumb(tall, size);
      const { data: px } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
      return [px[0], px[1], px[2]];
    };
    expect(await colour('50x40t')).toEqual([255, 0, 0]);
    expect(await colour('50x40b')).toEqual([0, 0, 255]);
  });

  it('is stored beside the original; concurrent requests for a missing thumb make it once', async () => {
    const before = thumbStats.generated;
    const results = await Promise.all(Array.from({ length: 6 }, () => thumb(tall, '0x30')));
    for (const r of results) expect([r.width, r.height]).toEqual([10, 30]);
    expect(thumbStats.generated - before).toBe(1);
    const cid = String(tall['collectionId']);
    const name = String(tall['image']);
    expect(await storedKeys(t)).toContain(`${cid}/${tall.id}/thumbs_${name}/0x30_${name}`);
    await thumb(tall, '0x30');
    expect(thumbStats.generated - before).toBe(1);
  });

  it('a webp original gets a png thumb; non-images are served as they are', async () => {
    const webp = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#0f0' } }).webp().toBuffer();
    const rec = await pb.collection('docs').create({ image: new File([new Uint8Array(webp)], 'leaf.webp') });
    const got = await thumb(rec, '100x100');
    expect(got.type).toBe('image/png');
    expect([got.width, got.height]).toEqual([100, 100]);
    const textDoc = await pb.collection('docs').create({ file: new File(['plain'], 'plain.txt') });
    const res = await request(t.http).get(`/api/files/docs/${textDoc.id}/${String(textDoc['file'])}?thumb=100x100`).expect(200);
    expect(res.text).toBe('plain');
  });

  it('replacing the image removes the old file and its thumbs after the commit', async () => {
    const rec = await pb.collection('docs').create({ image: new File([new Uint8Array(await png(30, 30))], 'old.png') });
    await thumb(rec, '100x100');
    const cid = String(rec['collectionId']);
    const old = String(rec['image']);
    expect(await storedKeys(t)).toContain(`${cid}/${rec.id}/thumbs_${old}/100x100_${old}`);
    await pb.collection('docs').update(rec.id, { image: new File([new Uint8Array(await png(30, 30))], 'new.png') });
    expect((await storedKeys(t)).filter((k) => k.includes(old))).toEqual([]);
  });
});
