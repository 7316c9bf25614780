import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from 'express';
import expressStaticGzip from 'express-static-gzip';
import type { OpenApiDocument } from '../openapi/index.js';
import { etagListHas } from '../records/service.js';

export interface OpenApiHttpDeps {
  /** The document of the collections being served (rebuilt with them on a --dev reload). */
  document(): OpenApiDocument;
  /** Where the build put the reference page's renderer (`admin/dist/reference`). */
  assetsDir: string;
}

/** Where `npm run build:admin` puts the reference page's renderer, from src/http or dist/http alike. */
export const REFERENCE_ASSETS = join(import.meta.dirname, '..', '..', 'admin', 'dist', 'reference');

interface Prepared {
  text: string;
  etag: string;
}

/**
 * The reference page lets its renderer (Redoc, served from here) use nothing but this origin:
 * the browser refuses any other request, such as the renderer's logo from a CDN.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/api/openapi.json" hide-download-button="false" expand-responses="200" path-in-middle-panel="true"></redoc>
<script src="/api/docs/assets/redoc.standalone.js"></script>
</body>
</html>
`;

/** `GET /api/openapi.json` (serialized once per document, with an ETag) and the reference page `GET /api/docs`. */
export function openApiRoutes(deps: OpenApiHttpDeps): Router {
  const router = Router();
  const prepared = new WeakMap<OpenApiDocument, Prepared>();
  const current = (): Prepared => {
    const doc = deps.document();
    let p = prepared.get(doc);
    if (!p) {
      const text = JSON.stringify(doc);
      prepared.set(doc, (p = { text, etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"` }));
    }
    return p;
  };

  router.get('/api/openapi.json', (req, res) => {
    const { text, etag } = current();
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch && etagListHas(ifNoneMatch, etag)) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(text);
  });

  const built = existsSync(join(deps.assetsDir, 'redoc.standalone.js'));
  router.get('/api/docs', (_req, res) => {
    if (!built) {
      res.status(503).type('text/plain').send('The API reference page is not built. Run `npm run build` (or `npm run build:admin`) and restart; the document itself is at /api/openapi.json.\n');
      return;
    }
    const info = deps.document()['info'] as { title?: string } | undefined;
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(page(info?.title ?? 'API reference'));
  });
  if (built) {
    // Precompressed at build (.br/.gz); revalidated hourly, the ETag makes that cheap.
    router.use('/api/docs/assets', expressStaticGzip(deps.assetsDir, { enableBrotli: true, orderPreference: ['br', 'gzip'], index: false, serveStatic: { maxAge: '1h', index: false } }));
  }
  return router;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
