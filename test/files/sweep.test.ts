/**
 * The orphan sweep: storage objects no record references (and their thumbs) and temp files of
 * uploads a crash interrupted are listed (dry run) and deleted with --delete; live files stay.
 * A `galley serve` killed with SIGKILL mid-upload leaves a temp file that the sweep removes.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepFiles } from '../../src/files/sweep.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { runCli, startServe } from '../helpers/cli.js';
import { DIALECTS, freshDatabase } from '../helpers/dialects.js';
import { eventually } from '../helpers/wait.js';
import { FILE_COLLECTIONS, png, storedKeys } from './fixtures.js';

describe.each(DIALECTS)('orphan sweep (%s)', (dialect) => {
  let t: TestApp;
  let pb: PocketBase;
  beforeAll(async () => {
    t = await createTestApp(dialect, FILE_COLLECTIONS);
    pb = new PocketBase(await t.listen());
    pb.autoCancellation(false);
  });
  afterAll(async () => t?.close());

  it('finds objects no record references, thumbs of those, and stale temp uploads; --delete removes only them', async () => {
    const live = await pb.collection('docs').create({ image: new File([new Uint8Array(await png(20, 20))], 'live.png'), attachments: [new File(['a'], 'aaa.txt')] });
    const cid = String(live['collectionId']);
    const name = String(live['image']);
    await fetch(pb.files.getURL(live, name, { thumb: '100x100' }));
    await t.files.storage.putBuffer(`${cid}/${live.id}/lost_abcdefghij.txt`, Buffer.from('x'), 'text/plain');
    await t.files.storage.putBuffer(`${cid}/${live.id}/thumbs_lost_abcdefghij.png/100x100_lost_abcdefghij.png`, Buffer.from('x'), 'image/png');
    await t.files.storage.putBuffer(`${cid}/gonerecord12345/old_abcdefghij.txt`, Buffer.from('x'), 'text/plain');
    mkdirSync(t.files.spoolDir, { recursive: true });
    writeFileSync(join(t.files.spoolDir, 'interrupted'), 'partial');
    const deps = [t.files, t.app.records, t.app.db.runner()] as const;

    const young = await sweepFiles(...deps, { apply: false, minAgeMs: 60 * 60_000 });
    expect(young.orphans).toEqual([]);
    const dry = await sweepFiles(...deps, { apply: false, minAgeMs: 0 });
    expect(dry.orphans).toEqual([
      `${cid}/${live.id}/lost_abcdefghij.txt`,
      `${cid}/${live.id}/thumbs_lost_abcdefghij.png/100x100_lost_abcdefghij.png`,
      `${cid}/gonerecord12345/old_abcdefghij.txt`,
    ].sort());
    expect(dry.staleUploads).toEqual([join(t.files.spoolDir, 'interrupted')]);
    expect(await storedKeys(t)).toHaveLength(6);

    await sweepFiles(...deps, { apply: true, minAgeMs: 0 });
    expect(await storedKeys(t)).toEqual(
      [`${cid}/${live.id}/${name}`, `${cid}/${live.id}/${String(live['attachments'][0])}`, `${cid}/${live.id}/thumbs_${name}/100x100_${name}`].sort(),
    );
    expect(readdirSync(t.files.spoolDir)).toEqual([]);
  });
});

describe.each(DIALECTS)('a serve killed mid-upload (%s)', (dialect) => {
  it('leaves a temp file that galley files --sweep lists, then deletes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-kill-'));
    const db = await freshDatabase(dialect);
    try {
      mkdirSync(join(dir, 'collections'));
      const docs = FILE_COLLECTIONS.find((c) => c['name'] === 'docs')!;
      writeFileSync(join(dir, 'collections', 'docs.json'), JSON.stringify({ ...docs, createRule: '', updateRule: '' }));
      const env = { GALLEY_COLLECTIONS: join(dir, 'collections'), GALLEY_DATA: join(dir, 'data'), DATABASE_URL: db.url };
      const server = await startServe({ env, cwd: dir, timeoutMs: 120_000 });
      // A chunked upload that never ends: the server is killed while it streams.
      const req = httpRequest(`${server.url}/api/collections/docs/records`, { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=b' } });
      req.on('error', () => {});
      req.write('--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n');
      req.write(Buffer.alloc(64 * 1024, 1));
      const spool = join(dir, 'data', 'uploads_tmp');
      await eventually(() => {
        try {
          return readdirSync(spool).length > 0;
        } catch {
          return false;
        }
      });
      server.child.kill('SIGKILL');
      await server.exited;
      req.destroy();

      // Generous deadlines: a CLI start (tsx, the database) is slow on a loaded two-core machine.
      const dry = await runCli(['files', '--sweep', '--min-age', '0'], { env, cwd: dir, timeoutMs: 120_000 });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/stale upload .*uploads_tmp/);
      expect(dry.stdout).toMatch(/1 file\(s\) to delete \(dry run/);
      expect(readdirSync(spool)).toHaveLength(1);
      const real = await runCli(['files', '--sweep', '--delete', '--min-age', '0'], { env, cwd: dir, timeoutMs: 120_000 });
      expect(real.stdout).toMatch(/Deleted 1 file\(s\)/);
      expect(readdirSync(spool)).toEqual([]);
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 400_000);
});
