import { Router, type Request } from 'express';
import { AppError } from '../errors/index.js';
import type { Collection, Field } from '../schema/index.js';
import { authOf, handle, type RecordsHttpDeps } from './routes-records.js';
import { queryString } from './request-info.js';

const TOP_ORDER = ['id', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'name', 'type', 'fields', 'indexes', 'system'];
/** Galley-only keys that are not part of PocketBase's collection JSON. */
const INTERNAL_KEYS = new Set(['previousName']);

/** A collection as PocketBase serves it (§6.1): fixed top-level order, fields with sorted keys, no secrets. */
export function collectionJson(c: Collection): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of TOP_ORDER) out[key] = key === 'fields' ? c.fields.map(fieldJson) : c[key];
  for (const key of Object.keys(c).sort()) {
    if (key in out || INTERNAL_KEYS.has(key) || key.startsWith('$')) continue;
    out[key] = c[key];
  }
  return out;
}

function fieldJson(f: Field): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(f).sort()) if (!INTERNAL_KEYS.has(key)) out[key] = f[key];
  return out;
}

/** Superusers only (§11): 401 without a valid token, 403 for other auth records. */
export async function requireSuperuser(deps: RecordsHttpDeps, req: Request): Promise<void> {
  const auth = await authOf(deps, req);
  if (!auth) throw new AppError('unauthorized');
  if (auth.collection.name !== '_superusers') throw new AppError('forbidden', 'The authorized record is not allowed to perform this action.');
}

/** The read half of PocketBase's collections API, for the admin panel and the SDK's `pb.collections`. */
export function collectionRoutes(deps: RecordsHttpDeps): Router {
  const router = Router();
  router.get(
    '/api/collections',
    handle(async (req) => {
      await requireSuperuser(deps, req);
      const all = deps.runtime().schema.collections;
      const perPage = Math.min(Math.max(Number(queryString(req, 'perPage') ?? 30) || 30, 1), 1000);
      const page = Math.max(Number(queryString(req, 'page') ?? 1) || 1, 1);
      const items = all.slice((page - 1) * perPage, page * perPage).map(collectionJson);
      return { status: 200, body: { items, page, perPage, totalItems: all.length, totalPages: Math.ceil(all.length / perPage) } };
    }),
  );
  router.get(
    '/api/collections/:collection',
    handle(async (req) => {
      await requireSuperuser(deps, req);
      const rt = deps.runtime().find(String(req.params['collection']));
      if (!rt) throw new AppError('not_found');
      return { status: 200, body: collectionJson(rt.collection) };
    }),
  );
  return router;
}
