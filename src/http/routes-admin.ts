import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import expressStaticGzip from 'express-static-gzip';
import type { Plan } from '../db/index.js';
import { handle, type RecordsHttpDeps } from './routes-records.js';
import { requireSuperuser } from './routes-collections.js';

export interface AdminHttpDeps {
  /** The built admin panel (`admin/dist`); when missing, `/_/` explains how to build it. */
  distDir: string;
  /** The migration plan between the collection files and the database, computed without applying it. */
  pendingPlan(): Promise<Plan>;
}

/** Where `npm run build:admin` writes the panel, from src/http or dist/http alike. */
export const ADMIN_DIST = join(import.meta.dirname, '..', '..', 'admin', 'dist');

/**
 * The admin panel at `/_/` (static files of a client of the public API; hash routing, so every
 * route is index.html) and the one read-only endpoint it needs beyond PocketBase's API.
 */
export function adminRoutes(records: RecordsHttpDeps, deps: AdminHttpDeps): Router {
  const router = Router();
  router.get(
    '/api/galley/migrations',
    handle(async (req) => {
      await requireSuperuser(records, req);
      const plan = await deps.pendingPlan();
      return {
        status: 200,
        body: { steps: plan.steps.map(({ kind, risk, target, summary, sql, loss }) => ({ kind, risk, target, summary, sql, ...(loss ? { loss } : {}) })), drift: plan.drift, notes: plan.notes },
      };
    }),
  );
  // Express matches `/_/` for `/_` too (non-strict routing): redirect only the bare path.
  router.get('/_', (req, res, next) => (req.path === '/_' && !req.originalUrl.startsWith('/_/') ? res.redirect(301, '/_/') : next()));
  if (existsSync(join(deps.distDir, 'index.html'))) {
    // Hashed asset names never change content: cache them for a year; index.html is always revalidated.
    // The build wrote a .br and a .gz beside each one: sent by Accept-Encoding, never compressed per request.
    router.use(
      '/_/assets',
      expressStaticGzip(join(deps.distDir, 'assets'), { enableBrotli: true, orderPreference: ['br', 'gzip'], index: false, serveStatic: { immutable: true, maxAge: '1y', index: false } }),
    );
    router.use('/_', express.static(deps.distDir, { index: false, maxAge: 0 }));
    router.get('/_/', (_req, res) => {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(join(deps.distDir, 'index.html'));
    });
  } else {
    router.get('/_/', (_req, res) => {
      res.status(503).type('text/plain').send('The admin panel is not built. Run `npm run build` (or `npm run build:admin`) and restart.\n');
    });
  }
  return router;
}
