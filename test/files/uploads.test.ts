/**
 * Uploads on create and update (§1.5, §10) through the unmodified SDK and raw multipart: single
 * and multiple fields, append/prepend/remove/replace/clear, names, size/count/type validation.
 */
import PocketBase from 'pocketbase';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';
import { FILE_COLLECTIONS, png, spooled, storedKeys } from './fixtures.js';

const NAME = /^[a-z0-9_]+_[a-z0-9]{10}(\.[\w.*\-+=#]+)?$/;

describe.each(DIALECTS)('file uploads (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;
  let docsId: string;

  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS);
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
    docsId = t.app.records.find('docs')!.collection.id;
  });
  afterAll(async () => t?.close());

  const bytesOf = async (id: string, name: string) => (await request(t.http).get(`/api/files/docs/${id}/${name}`).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  })).body as Buffer;

  it('SDK create with a plain object holding File and Blob values: stored under collectionId/recordId/name', async () => {
    const image = await png(20, 10);
    const rec = await pb.collection('docs').create({
      title: 'first',
      file: new File(['hello world'], 'My Photo Notes.TXT', { type: 'text/plain' }),
      attachments: [new Blob(['a1']), new File(['a2'], 'two.tar.gz')],
      image: new File([new Uint8Array(image)], 'pic.png'),
    });
    expect(rec['file']).toMatch(/^my_photo_notes_[a-z0-9]{10}\.TXT$/);
    expect(rec['attachments']).toHaveLength(2);
    expect(rec['attachments'][1]).toMatch(/^two_[a-z0-9]{10}\.tar\.gz$/);
    // A Blob has no name: the SDK sends "blob", padded to 3+ characters, extension from the content.
    expect(rec['attachments'][0]).toMatch(NAME);
    expect(rec['image']).toMatch(/^pic_[a-z0-9]{10}\.png$/);
    const keys = await storedKeys(t);
    for (const name of [rec['file'], ...rec['attachments'], rec['image']]) expect(keys).toContain(`${docsId}/${rec.id}/${name}`);
    expect((await bytesOf(rec.id, rec['file'])).toString()).toBe('hello world');
    expect(await spooled(t)).toEqual([]);
  });

  it('SDK create with FormData (plain fields, @jsonPayload-free) and update modifiers f+, +f, f-', async () => {
    const form = new FormData();
    form.append('title', 'form');
    form.append('attachments', new File(['one'], 'one.txt'));
    const rec = await pb.collection('docs').create(form);
    expect(rec['attachments']).toEqual([expect.stringMatching(/^one_/)]);
    const [one] = rec['attachments'] as string[];

    const appended = await pb.collection('docs').update(rec.id, { 'attachments+': new File(['two'], 'two.txt') });
    expect(appended['attachments']).toEqual([one, expect.stringMatching(/^two_/)]);
    const prepended = await pb.collection('docs').update(rec.id, { '+attachments': new File(['zero'], 'zero.txt') });
    expect(prepended['attachments']).toEqual([expect.stringMatching(/^zero_/), one, appended['attachments'][1]]);

    const removed = await pb.collection('docs').update(rec.id, { 'attachments-': [one] });
    expect(removed['attachments']).toEqual([prepended['attachments'][0], appended['attachments'][1]]);
    // The removed file is gone after the commit; the others stay.
    const keys = await storedKeys(t);
    expect(keys).not.toContain(`${docsId}/${rec.id}/${one}`);
    expect(keys).toContain(`${docsId}/${rec.id}/${appended['attachments'][1]}`);
  });

  it('uploading to the field replaces it; kept names sent with the upload are merged; [] and "" clear', async () => {
    const rec = await pb.collection('docs').create({ title: 'r', file: new File(['v1'], 'version1.txt'), attachments: [new File(['x'], 'xxx.txt'), new File(['y'], 'yyy.txt')] });
    const replaced = await pb.collection('docs').update(rec.id, { file: new File(['v2'], 'version2.txt') });
    expect(replaced['file']).toMatch(/^version2_/);
    expect(await storedKeys(t)).not.toContain(`${docsId}/${rec.id}/${rec['file']}`);

    // Names and a new upload in one array: the SDK sends the names under the key and the file under `attachments+`.
    const [x, y] = rec['attachments'] as string[];
    const merged = await pb.collection('docs').update(rec.id, { attachments: [y, new File(['z'], 'zzz.txt')] });
    expect(merged['attachments']).toEqual([y, expect.stringMatching(/^zzz_/)]);
    expect(await storedKeys(t)).not.toContain(`${docsId}/${rec.id}/${x}`);

    const cleared = await pb.collection('docs').update(rec.id, { attachments: [], file: '' });
    expect(cleared['attachments']).toEqual([]);
    expect(cleared['file']).toBe('');
    expect((await storedKeys(t)).filter((k) => k.startsWith(`${docsId}/${rec.id}/`))).toEqual([]);
  });

  it('validation: size, count, type from the content (not the name or Content-Type), all at once; nothing stored', async () => {
    const before = await storedKeys(t);
    const err = await sdkError(() =>
      pb.collection('docs').create({
        title: 'bad',
        attachments: [new File(['a'], 'a.txt'), new File(['b'], 'b.txt'), new File(['c'], 'c.txt'), new File(['d'], 'd.txt')],
        image: new File(['not an image at all'], 'fake.png', { type: 'image/png' }),
      }),
    );
    expect(err.status).toBe(400);
    expect(err.response['data']).toMatchObject({
      attachments: { code: 'validation_too_many_files' },
      image: { code: 'validation_invalid_mime_type' },
    });
    const big = await sdkError(() => pb.collection('docs').create({ attachments: [new File(['x'.repeat(1001)], 'big.txt')] }));
    expect(big.response['data']).toMatchObject({ attachments: { code: 'validation_file_size_limit', params: { maxSize: 1000 } } });
    // A JPEG named .txt with a text Content-Type is a JPEG.
    const jpeg = await (await import('sharp')).default({ create: { width: 4, height: 4, channels: 3, background: '#00f' } }).jpeg().toBuffer();
    const ok = await pb.collection('docs').create({ image: new File([new Uint8Array(jpeg)], 'liar.txt', { type: 'text/plain' }) });
    expect(ok['image']).toMatch(/^liar_[a-z0-9]{10}\.txt$/);
    expect((await storedKeys(t)).filter((k) => !before.includes(k))).toEqual([`${docsId}/${ok.id}/${ok['image']}`]);
    expect(await spooled(t)).toEqual([]);
  });

  it('two uploads to a single field are refused, not one dropped; a plain name never becomes a file', async () => {
    const res = await request(t.http).post('/api/collections/docs/records').attach('file', Buffer.from('1'), 'a.txt').attach('file', Buffer.from('2'), 'b.txt');
    expect(res.status).toBe(400);
    expect(res.body.data.file.code).toBe('validation_too_many_files');
    const named = await request(t.http).post('/api/collections/docs/records').send({ file: 'invented_abcdefghij.txt' });
    expect(named.status).toBe(400);
    expect(named.body.data.file.code).toBe('validation_invalid_file');
  });

  it('an upload to a field that is not a file field is a 400', async () => {
    const res = await request(t.http).post('/api/collections/docs/records').attach('title', Buffer.from('x'), 'x.txt');
    expect(res.status).toBe(400);
    expect(res.body.data.title.code).toBe('validation_not_a_file_field');
    expect(await spooled(t)).toEqual([]);
  });

  it('a rule refusal after the upload stores nothing', async () => {
    const before = await storedKeys(t);
    const res = await request(t.http).post('/api/collections/docs/records').field('title', 'forbidden').attach('file', Buffer.from('nope'), 'n.txt');
    expect(res.status).toBe(400);
    const rec = await pb.collection('docs').create({ title: 'ok' });
    const locked = await pb.collection('docs').update(rec.id, { title: 'locked' });
    const refused = await request(t.http).patch(`/api/collections/docs/records/${locked.id}`).attach('file', Buffer.from('nope'), 'n.txt');
    expect(refused.status).toBe(404);
    expect(await storedKeys(t)).toEqual(before);
    expect(await spooled(t)).toEqual([]);
  });

  it('deleting a record removes its files, and a cascade removes the files of the records it deletes', async () => {
    const doc = await pb.collection('docs').create({ title: 'd', file: new File(['f'], 'f.txt') });
    const note = await pb.collection('notes').create({ doc: doc.id, scan: new File(['s'], 's.txt') });
    const notesId = t.app.records.find('notes')!.collection.id;
    expect(await storedKeys(t)).toContain(`${notesId}/${note.id}/${note['scan']}`);
    await pb.collection('docs').delete(doc.id);
    const keys = await storedKeys(t);
    expect(keys.filter((k) => k.startsWith(`${docsId}/${doc.id}/`) || k.startsWith(`${notesId}/${note.id}/`))).toEqual([]);
  });

  it('reports uploads to the metrics', async () => {
    await pb.collection('docs').create({ file: new File(['12345'], 'm.txt') });
    const { body: text } = await t.metrics.render(false);
    expect(text).toMatch(/galley_files_total\{direction="upload"\} [1-9]/);
  });
});
