import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateSchema } from '../../src/app.js';
import { createHttpApp, REFERENCE_ASSETS } from '../../src/http/index.js';
import { openApiDocument } from '../../src/openapi/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { schemaOf } from '../helpers/schema.js';
import { CHROMIUM, launchBrowser } from '../admin/harness.js';
import { librarySchema } from './fixtures.js';
import { OUTPUT_DIR } from './validators.js';

const BUILT = existsSync(join(REFERENCE_ASSETS, 'redoc.standalone.js'));
const CI = Boolean(process.env['CI']);

describe('GET /api/openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the document of the loaded collections, with an ETag and 304 on If-None-Match', async () => {
    const res = await request(t.http).get('/api/openapi.json').expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument(t.app.records.schema))));
    const etag = res.headers['etag'] as string;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    await request(t.http).get('/api/openapi.json').set('If-None-Match', etag).expect(304);
    await request(t.http).get('/api/openapi.json').set('If-None-Match', '"other"').expect(200);
  });

  it('a reload of the collections (serve --dev) serves the new document, with a new ETag', async () => {
    const before = await request(t.http).get('/api/openapi.json').expect(200);
    t.app.schema = schemaOf({ name: 'notes', fields: [{ name: 'body', type: 'text' }] });
    await activateSchema(t.app);
    const after = await request(t.http).get('/api/openapi.json').expect(200);
    expect(after.headers['etag']).not.toBe(before.headers['etag']);
    expect(Object.keys(after.body.paths)).toContain('/api/collections/notes/records');
    expect(Object.keys(after.body.paths)).not.toContain('/api/collections/posts/records');
  });
});

describe('GET /api/docs', () => {
  it('without the built assets: 503 saying how to build them (the document still works)', async () => {
    const http = createHttpApp({ log: pino({ level: 'silent' }), openapi: { document: () => openApiDocument(librarySchema()), assetsDir: '/nonexistent/reference' } });
    const res = await request(http).get('/api/docs').expect(503);
    expect(res.text).toContain('npm run build');
    await request(http).get('/api/openapi.json').expect(200);
  });

  describe.skipIf(!BUILT && !CI)('with the built assets', () => {
    let t: TestApp;
    let base: string;
    beforeAll(async () => {
      if (!BUILT) throw new Error('admin/dist/reference is not built: CI builds it in npm ci (npm run build:admin)');
      t = await createTestApp('sqlite', undefined, {});
      base = await t.listen();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('an HTML page titled after the app that may load nothing but this origin', async () => {
      const res = await request(t.http).get('/api/docs').expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<title>Galley API</title>');
      expect(res.text).toContain('<script src="/api/docs/assets/redoc.standalone.js"></script>');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['content-security-policy']).toContain("img-src 'self' data:");
      await request(t.http).get('/api/docs/assets/redoc.standalone.js').expect(200).expect('Content-Type', /javascript/);
      await request(t.http).get('/api/docs/assets/nope.js').expect(404);
    });

    it.skipIf(!existsSync(CHROMIUM) && !CI)('renders in a browser without a single request leaving the machine', async () => {
      const browser = await launchBrowser();
      try {
        const context = await browser.newContext();
        const outside: string[] = [];
        const local: string[] = [];
        await context.route('**/*', async (route) => {
          const url = route.request().url();
          if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) {
            local.push(url);
            await route.continue();
          } else {
            outside.push(url);
            await route.abort();
          }
        });
        const page = await context.newPage();
        await page.goto(`${base}/api/docs`);
        // Redoc has rendered the document: an operation summary and a collection's tag.
        await page.getByText('List posts').first().waitFor({ state: 'attached', timeout: 60_000 });
        await page.getByRole('heading', { name: 'Galley API' }).first().waitFor({ timeout: 60_000 });
        mkdirSync(OUTPUT_DIR, { recursive: true });
        await page.screenshot({ path: join(OUTPUT_DIR, 'api-docs.png') });
        expect(outside).toEqual([]);
        expect(local).toEqual(expect.arrayContaining([`${base}/api/docs`, `${base}/api/docs/assets/redoc.standalone.js`, `${base}/api/openapi.json`]));
      } finally {
        await browser.close();
      }
    }, 120_000);
  });
});

if (!BUILT && !CI) console.warn('[api docs] admin/dist/reference is not built (npm run build:admin): the page tests are skipped. Set CI=1 to make this a failure.');
if (!existsSync(CHROMIUM) && !CI) console.warn(`[api docs] ${CHROMIUM} is not installed: the browser check is skipped. Set CI=1 to make this a failure.`);
