import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { GALLERY } from './fixtures.js';
import { api, ensureSignedIn, ensureSuperuser, launchBrowser, missingPrerequisites, screenshot, startGalley, superuserSignIn, type Galley, type Json } from './harness.js';

/**
 * File fields in the admin panel (issue 13 item 8): uploads through the file input and the drop
 * zone, previews (thumbs), removal, reorder, replacing a single file, the server's size and type
 * errors on the field, and protected files shown through a file token. Each test seeds what it
 * needs through the API and checks what the server stored.
 */

const missing = missingPrerequisites();
const ADMIN = { email: 'files@example.com', password: 'files-pass-12345' };
const UI_TIMEOUT = 15_000;
/** Conditions waited for on a loaded machine. */
const WAIT = { timeout: 60_000 };
const SLOW = 240_000;

if (missing.length && process.env['CI']) {
  describe('admin panel file fields in a browser', () => {
    it('has its prerequisites (CI must provide them)', () => {
      expect.fail(`The admin panel files suite cannot run: ${missing.join('; ')}.`);
    });
  });
}

type Upload = { name: string; mimeType: string; buffer: Buffer };

const png = async (name: string, background: string, width = 40, height = 30): Promise<Upload> => ({
  name,
  mimeType: 'image/png',
  buffer: await sharp({ create: { width, height, channels: 3, background } }).png().toBuffer(),
});
const text = (name: string, body: string): Upload => ({ name, mimeType: 'text/plain', buffer: Buffer.from(body) });

describe.skipIf(missing.length > 0).each(DIALECTS)('admin panel file fields (%s)', (dialect) => {
  let galley: Galley;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    galley = await startGalley(dialect, [GALLERY]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err?.stack ?? err)));
  }, SLOW);
  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await galley?.close();
  }, SLOW);
  afterEach(() => {
    expect(pageErrors.splice(0), 'uncaught exceptions in the page').toEqual([]);
  });

  const editor = () => page.getByTestId('record-editor');
  const input = (field: string) => editor().getByLabel(field, { exact: true });
  const shot = (name: string) => screenshot(page, dialect, `files-${name}`);

  const token = async () => {
    await ensureSuperuser(galley, ADMIN);
    return (await superuserSignIn(galley.url, ADMIN.email, ADMIN.password)).token;
  };

  /** A gallery record written through the API (multipart when there are files). */
  async function seed(data: Json, files: Record<string, Upload[]> = {}): Promise<Json> {
    const form = new FormData();
    form.append('@jsonPayload', JSON.stringify(data));
    for (const [key, list] of Object.entries(files)) for (const f of list) form.append(key, new Blob([new Uint8Array(f.buffer)], { type: f.mimeType }), f.name);
    const res = await fetch(`${galley.url}/api/collections/gallery/records`, { method: 'POST', headers: { Authorization: await token() }, body: form });
    const body = (await res.json()) as Json;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  }

  async function stored(id: string): Promise<Json> {
    const r = await api(galley.url, 'GET', `/api/collections/gallery/records/${id}`, { token: await token() });
    expect(r.status).toBe(200);
    return r.body;
  }

  /** GET a file URL (absolute or an API path): its status and bytes. */
  async function download(urlOrPath: string): Promise<{ status: number; bytes: Buffer; type: string }> {
    const res = await fetch(urlOrPath.startsWith('http') ? urlOrPath : galley.url + urlOrPath);
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
  }
  const fileUrl = (id: string, name: unknown) => `/api/files/gallery/${id}/${String(name)}`;

  /** The file rows of a field in the editor: `kind:name`. */
  const items = (field: string) =>
    editor()
      .getByTestId(`file-item-${field}`)
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-name')}`));

  /** Every image under `root` has loaded (a broken thumb has naturalWidth 0). */
  const imagesLoaded = (root: Locator) =>
    root.locator('img').evaluateAll((imgs) => imgs.length > 0 && imgs.every((i) => (i as unknown as { complete: boolean }).complete && (i as unknown as { naturalWidth: number }).naturalWidth > 0));

  const focused = () => page.evaluate<string>(`(() => { const a = document.activeElement; return a ? (a.getAttribute('aria-label') || a.getAttribute('data-testid') || a.tagName) : 'none'; })()`);

  async function openList(): Promise<void> {
    await ensureSignedIn(page, galley, ADMIN, UI_TIMEOUT);
    await page.goto('about:blank');
    await page.goto(`${galley.url}/_/#/collections/gallery`);
    await expect.poll(() => page.getByTestId('collection-title').textContent().catch(() => null), WAIT).toContain('gallery');
    await page.getByTestId('records-loading').waitFor({ state: 'hidden' });
  }

  async function openRecord(id: string): Promise<void> {
    await openList();
    await page.getByTestId(`open-${id}`).click();
    await expect.poll(() => editor().getByTestId('editor-record-id').textContent().catch(() => null), WAIT).toBe(id);
    await editor().getByTestId('record-form').waitFor();
  }

  /** Saves and waits until the editor closed and the server holds what `check` expects. */
  async function saveAndWait(id: string, check: (r: Json) => boolean): Promise<Json> {
    await editor().getByTestId('record-save').click();
    await editor().waitFor({ state: 'hidden', ...WAIT });
    await expect.poll(async () => check(await stored(id)), WAIT).toBe(true);
    return stored(id);
  }

  it('creates a record with a single and a multiple file field through the file inputs; the table and the editor show thumbs', async () => {
    const cover = await png('cover.png', '#d04040');
    const photo = await png('photo.png', '#40a040');
    const notes = text('notes.txt', 'plain notes');
    await openList();
    await page.getByTestId('new-record').click();
    await input('title').fill('First upload');
    await input('cover').setInputFiles(cover);
    await input('docs').setInputFiles([photo, notes]);
    await expect.poll(() => items('cover')).toEqual(['new:cover.png']);
    await expect.poll(() => items('docs')).toEqual(['new:photo.png', 'new:notes.txt']);
    // Queued images preview from the browser's copy.
    await expect.poll(() => imagesLoaded(editor().getByTestId('file-list-docs')), WAIT).toBe(true);
    await shot('create-queued');

    await editor().getByTestId('record-save').click();
    await editor().waitFor({ state: 'hidden', ...WAIT });
    const notice = page.getByTestId('notice');
    await expect.poll(() => notice.textContent().catch(() => ''), WAIT).toMatch(/^Record \w+ created\.$/);
    const id = /^Record (\w+)/.exec((await notice.textContent()) ?? '')?.[1];
    const rec = await stored(id!);
    expect(String(rec['cover'])).toMatch(/^cover_\w+\.png$/);
    expect(rec['docs']).toEqual([expect.stringMatching(/^photo_\w+\.png$/), expect.stringMatching(/^notes_\w+\.txt$/)]);
    expect((await download(fileUrl(id!, rec['cover']))).bytes.equals(cover.buffer)).toBe(true);
    expect((await download(fileUrl(id!, (rec['docs'] as string[])[1]))).bytes.toString()).toBe('plain notes');

    // The table: a small thumb per image (named by its file name), the name for other files.
    const row = page.getByTestId(`row-${id}`);
    await expect.poll(() => row.getByTestId('file-cell-cover').locator('img').getAttribute('alt'), WAIT).toBe(rec['cover']);
    await expect.poll(() => imagesLoaded(row.getByTestId('file-cell-cover')), WAIT).toBe(true);
    expect(await row.getByTestId('file-cell-docs').textContent()).toContain(String((rec['docs'] as string[])[1]));

    // The editor: stored files with 100x100 thumbs and links; the text file has a link, no thumb.
    await page.getByTestId(`open-${id}`).click();
    await expect.poll(() => items('docs'), WAIT).toEqual((rec['docs'] as string[]).map((n) => `stored:${n}`));
    const thumb = editor().getByTestId('file-list-cover').getByTestId('file-thumb');
    expect(await thumb.getAttribute('src')).toContain('thumb=100x100');
    await expect.poll(() => imagesLoaded(editor().getByTestId('file-list-cover')), WAIT).toBe(true);
    const txtRow = editor().getByTestId('file-item-docs').nth(1);
    expect(await txtRow.getByTestId('file-thumb').count()).toBe(0);
    expect(await txtRow.getByTestId('file-link').getAttribute('target')).toBe('_blank');
    expect((await download(String(await txtRow.getByTestId('file-link').getAttribute('href')))).bytes.toString()).toBe('plain notes');
    expect(await txtRow.getByTestId('file-download').getAttribute('href')).toContain('download=true');
    // Every button, link and input of the file fields has an accessible name.
    const unnamed = await editor()
      .locator('[data-testid^="file-field-"]')
      .locator('button, a, input')
      .evaluateAll((els) =>
        els
          .filter((el) => {
            const labels = (el as unknown as { labels?: ArrayLike<{ textContent: string | null }> | null }).labels;
            const byLabel = labels ? Array.from(labels).some((l) => (l.textContent ?? '').trim() !== '') : false;
            return !byLabel && !(el.textContent ?? '').trim() && !(el.getAttribute('aria-label') ?? '').trim();
          })
          .map((el) => el.outerHTML.slice(0, 100)),
      );
    expect(unnamed).toEqual([]);
    expect(await editor().getByRole('button', { name: `Remove ${String(rec['cover'])}` }).count()).toBe(1);
    await shot('stored-previews');
  }, SLOW);

  it('removes one file, adds another and reorders with the keyboard; the server keeps that order', async () => {
    const rec = await seed({ title: 'Reorder me' }, { docs: [await png('one.png', '#333'), text('two.txt', '2'), text('three.txt', '3')] });
    const id = String(rec['id']);
    const [one, two, three] = rec['docs'] as string[];
    await openRecord(id);
    await expect.poll(() => items('docs'), WAIT).toEqual([`stored:${one}`, `stored:${two}`, `stored:${three}`]);

    // Remove "two": the focus moves to the next file's remove button.
    await editor().getByRole('button', { name: `Remove ${two}` }).click();
    await expect.poll(() => items('docs')).toEqual([`stored:${one}`, `stored:${three}`]);
    await expect.poll(focused).toBe(`Remove ${three}`);
    await input('docs').setInputFiles(text('four.txt', '4'));
    await expect.poll(() => items('docs')).toEqual([`stored:${one}`, `stored:${three}`, 'new:four.txt']);
    // A new file cannot move above stored ones.
    expect(await editor().getByRole('button', { name: 'Move four.txt up' }).isDisabled()).toBe(true);
    let saved = await saveAndWait(id, (r) => (r['docs'] as string[]).length === 3);
    const four = (saved['docs'] as string[])[2]!;
    expect(saved['docs']).toEqual([one, three, expect.stringMatching(/^four_\w+\.txt$/)]);
    expect((await download(fileUrl(id, two))).status).toBe(404);

    // Reorder with the keyboard: "four" up twice; the focus follows the moved file.
    await openRecord(id);
    await expect.poll(() => items('docs'), WAIT).toEqual([`stored:${one}`, `stored:${three}`, `stored:${four}`]);
    await editor().getByRole('button', { name: `Move ${four} up` }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => items('docs')).toEqual([`stored:${one}`, `stored:${four}`, `stored:${three}`]);
    await expect.poll(focused).toBe(`Move ${four} up`);
    await page.keyboard.press('Enter');
    await expect.poll(() => items('docs')).toEqual([`stored:${four}`, `stored:${one}`, `stored:${three}`]);
    // At the top its "up" button is disabled: the focus went to its "down" button.
    await expect.poll(focused).toBe(`Move ${four} down`);
    expect(await editor().getByTestId('file-note-docs').textContent()).toContain('position 1 of 3');
    await shot('reordered');
    saved = await saveAndWait(id, (r) => (r['docs'] as string[])[0] === four);
    expect(saved['docs']).toEqual([four, one, three]);
  }, SLOW);

  it('replaces a single file; drops files on the drop zone up to maxSelect', async () => {
    const rec = await seed({ title: 'Replace me' }, { cover: [await png('old.png', '#00f')] });
    const id = String(rec['id']);
    const old = String(rec['cover']);
    await openRecord(id);
    await expect.poll(() => items('cover'), WAIT).toEqual([`stored:${old}`]);
    const next = await png('fresh.png', '#0f0', 20, 20);
    await input('cover').setInputFiles(next);
    await expect.poll(() => items('cover')).toEqual(['new:fresh.png']);

    // Five files dropped on a field that takes four: four are queued, the note names the fifth.
    const names = ['doc1.txt', 'doc2.txt', 'doc3.txt', 'doc4.txt', 'doc5.txt'];
    const dataTransfer = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); for (const n of ${JSON.stringify(names)}) dt.items.add(new File([n], n, { type: 'text/plain' })); return dt; })()`,
    );
    await editor().getByTestId('file-drop-docs').dispatchEvent('drop', { dataTransfer });
    await expect.poll(() => items('docs')).toEqual(names.slice(0, 4).map((n) => `new:${n}`));
    expect(await editor().getByTestId('file-note-docs').textContent()).toContain('skipped doc5.txt');
    expect(await input('docs').isDisabled()).toBe(true);
    await shot('replaced-and-dropped');

    const saved = await saveAndWait(id, (r) => r['cover'] !== old);
    expect(String(saved['cover'])).toMatch(/^fresh_\w+\.png$/);
    expect((saved['docs'] as string[]).map((n) => n.replace(/_\w+\.txt$/, ''))).toEqual(['doc1', 'doc2', 'doc3', 'doc4']);
    expect((await download(fileUrl(id, old))).status).toBe(404);
    expect((await download(fileUrl(id, saved['cover']))).bytes.equals(next.buffer)).toBe(true);
  }, SLOW);

  it("shows the server's size and type errors on the field", async () => {
    const rec = await seed({ title: 'Too large' });
    const id = String(rec['id']);
    await openRecord(id);
    expect(await editor().locator('#f-cover-hint').textContent()).toContain('max 64 KB each · types: image/png, image/jpeg');
    // 100 KB of PNG-looking bytes for a 64 KB field.
    const big = { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.concat([(await png('x.png', '#fff')).buffer, Buffer.alloc(100_000, 7)]) };
    await input('cover').setInputFiles(big);
    await expect.poll(() => editor().getByTestId('file-item-cover').textContent()).toContain('Larger than the 64 KB limit');
    await editor().getByTestId('record-save').click();
    const error = editor().getByTestId('field-error-cover');
    await expect.poll(() => error.textContent().catch(() => ''), WAIT).toContain('maximum allowed file size is 65536 bytes');
    expect(await input('cover').getAttribute('aria-invalid')).toBe('true');
    expect(await input('cover').getAttribute('aria-describedby')).toContain('f-cover-error');
    await shot('too-large');

    await input('cover').setInputFiles(text('not-an-image.txt', 'hello'));
    await editor().getByTestId('record-save').click();
    await expect.poll(() => error.textContent().catch(() => ''), WAIT).toContain('unsupported file type');
    expect((await stored(id))['cover']).toBe('');
    await editor().getByTestId('record-cancel').click();
  }, SLOW);

  it('protected files: previews and links carry a file token; without it the file is not served', async () => {
    const secret = await png('secret.png', '#a0a');
    const rec = await seed({ title: 'Guarded' });
    const id = String(rec['id']);
    await openRecord(id);
    expect(await editor().locator('#f-secret-hint').textContent()).toContain('protected');
    await input('secret').setInputFiles(secret);
    const saved = await saveAndWait(id, (r) => r['secret'] !== '');
    const name = String(saved['secret']);
    expect((await download(fileUrl(id, name))).status).toBe(404);

    // The table cell's thumb and the editor's preview load through ?token=.
    const cell = page.getByTestId(`row-${id}`).getByTestId('file-cell-secret');
    await expect.poll(() => cell.locator('img').getAttribute('src').catch(() => null), WAIT).toMatch(/[?&]token=/);
    await expect.poll(() => imagesLoaded(cell), WAIT).toBe(true);
    await page.getByTestId(`open-${id}`).click();
    const list = editor().getByTestId('file-list-secret');
    await expect.poll(() => list.getByTestId('file-thumb').getAttribute('src').catch(() => null), WAIT).toMatch(/thumb=100x100.*token=|token=.*thumb=100x100/);
    await expect.poll(() => imagesLoaded(list), WAIT).toBe(true);
    const href = String(await list.getByTestId('file-link').getAttribute('href'));
    expect(href).toMatch(/[?&]token=/);
    const viaLink = await download(href);
    expect(viaLink.status).toBe(200);
    expect(viaLink.bytes.equals(secret.buffer)).toBe(true);
    await shot('protected');
  }, SLOW);
});
