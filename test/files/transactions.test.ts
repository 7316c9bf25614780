/**
 * A record write and its files succeed or fail together (galley.md §10): files of a failing batch
 * or of a write that fails after they were stored are removed; a batch's files are stored with it.
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WritePlugin } from '../../src/records/plugins.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { sdkError } from '../helpers/sdk.js';
import { FILE_COLLECTIONS, spooled, storedKeys } from './fixtures.js';

/** Fails a write after its row (and files) were written, when the title asks for it. */
const saboteur: WritePlugin = {
  name: 'saboteur',
  handlersFor: () => ({
    written: async (w) => {
      if (w.record['title'] === 'explode') throw new Error('boom after the files were stored');
    },
  }),
};

describe.each(DIALECTS)('files and transactions (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;

  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS, { plugins: [saboteur] });
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
  });
  afterAll(async () => t?.close());

  it('a batch stores the files of each sub-request (SDK createBatch, multipart)', async () => {
    const batch = pb.createBatch();
    batch.collection('docs').create({ title: 'b1', file: new File(['one'], 'one.txt') });
    batch.collection('docs').create({ title: 'b2', attachments: [new File(['two'], 'two.txt'), new File(['three'], 'three.txt')] });
    const results = await batch.send();
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const [a, b] = results.map((r) => r.body as Record<string, unknown> & { id: string; collectionId: string });
    expect(a!['file']).toMatch(/^one_/);
    expect(b!['attachments']).toHaveLength(2);
    const keys = await storedKeys(t);
    expect(keys).toContain(`${a!.collectionId}/${a!.id}/${String(a!['file'])}`);
  });

  it('a failing batch leaves none of its files behind', async () => {
    const before = await storedKeys(t);
    const batch = pb.createBatch();
    batch.collection('docs').create({ title: 'kept?', file: new File(['first'], 'first.txt') });
    batch.collection('docs').create({ title: 'forbidden', file: new File(['second'], 'second.txt') });
    const err = await sdkError(() => batch.send());
    expect(err.status).toBe(400);
    expect(await storedKeys(t)).toEqual(before);
    expect(await spooled(t)).toEqual([]);
    expect((await pb.collection('docs').getFullList({ filter: 'title = "kept?"' })).length).toBe(0);
  });

  it('a write that fails after its files were stored removes them', async () => {
    const before = await storedKeys(t);
    const err = await sdkError(() => pb.collection('docs').create({ title: 'explode', file: new File(['x'], 'doomed.txt') }));
    expect(err.status).toBe(500);
    expect(await storedKeys(t)).toEqual(before);
    const rec = await pb.collection('docs').create({ title: 'fine', file: new File(['keep'], 'keep.txt') });
    const failed = await sdkError(() => pb.collection('docs').update(rec.id, { title: 'explode', file: new File(['y'], 'replacement.txt') }));
    expect(failed.status).toBe(500);
    // The update rolled back: the old file is still there, the new one was removed.
    const keys = await storedKeys(t);
    expect(keys).toContain(`${rec.collectionId}/${rec.id}/${String(rec['file'])}`);
    expect(keys.filter((k) => k.includes('replacement'))).toEqual([]);
  });

  it('an upload of a batch part to a field that takes no files is a 400', async () => {
    const batch = pb.createBatch();
    batch.collection('notes').create({ doc: '', scan: new File(['s'], 'scan.txt') });
    batch.collection('docs').create({ title: new File(['t'], 'title.txt') as unknown as string });
    const err = await sdkError(() => batch.send());
    expect(err.status).toBe(400);
    expect(await spooled(t)).toEqual([]);
  });
});
