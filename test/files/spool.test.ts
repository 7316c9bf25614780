/**
 * The upload spool's two ways of keeping a part: a body declaring at most HOLD_BODY_BYTES keeps
 * it in memory (no temp file), a larger or chunked one streams it to a temp file; discard()
 * forgets both.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { heldUpload, HOLD_BODY_BYTES, UploadSpool } from '../../src/files/spool.js';

describe('UploadSpool', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const spoolIn = () => {
    const dir = mkdtempSync(join(tmpdir(), 'galley-spool-'));
    dirs.push(dir);
    return { dir, spool: new UploadSpool(join(dir, 'tmp'), () => 1000) };
  };
  const data = Buffer.from('x'.repeat(300));

  it('a small declared body: the part is held in memory, no temp file', async () => {
    const { dir, spool } = spoolIn();
    spool.expectBody(HOLD_BODY_BYTES);
    const up = await spool.accept('f', 'a.txt', Readable.from([data.subarray(0, 100), data.subarray(100)]));
    expect(heldUpload(up.path)).toEqual(data);
    expect(up).toMatchObject({ size: 300, mimeType: 'text/plain; charset=utf-8', tooLarge: false });
    expect(readdirSync(dir)).toEqual([]);
    await spool.discard();
    expect(heldUpload(up.path)).toBeUndefined();
  });

  it('a held part past maxSize is cut and flagged', async () => {
    const { spool } = spoolIn();
    spool.expectBody(5000);
    const up = await spool.accept('f', 'a.txt', Readable.from([Buffer.alloc(1500, 'y')]));
    expect(up).toMatchObject({ size: 1500, tooLarge: true });
    expect(heldUpload(up.path)).toHaveLength(1000);
    await spool.discard();
  });

  it.each([['a larger body', HOLD_BODY_BYTES + 1], ['a chunked body', NaN]])('%s: the part streams to a temp file, removed by discard()', async (_what, length) => {
    const { dir, spool } = spoolIn();
    spool.expectBody(length);
    const up = await spool.accept('f', 'a.txt', Readable.from([data]));
    expect(heldUpload(up.path)).toBeUndefined();
    expect(readFileSync(up.path)).toEqual(data);
    await spool.discard();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });
});
