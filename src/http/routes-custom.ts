import { Router, type Request, type RequestHandler } from 'express';
import { AppError } from '../errors/index.js';
import { hookApp, type HookServices } from '../hooks/context.js';
import { apiErrorToAppError, describe, withoutSecrets } from '../hooks/plugin.js';
import type { RouteEvent, RouteResult } from '../hooks/public.js';
import { mayMatchGalleyPath, type HookRegistry, type RouteHook } from '../hooks/registry.js';
import { readRequestBody } from './body.js';
import type { Reply } from './reply.js';
import { firstValues } from './request-info.js';
import { authOf, handle, refuseUploads, type RecordsHttpDeps } from './routes-records.js';

export interface CustomRoutesDeps {
  /** The hooks loaded now (swapped by a --dev reload), or null without hooks files. */
  registry(): HookRegistry | null;
  services: HookServices;
  records: RecordsHttpDeps;
}

/** The custom routes, in two routers: see customRoutes. */
export interface CustomRouters {
  /** Mounted before Galley's own routers. */
  early: RequestHandler;
  /** Mounted after them, before the 404. */
  late: RequestHandler;
}

/**
 * The routes of the hooks files (`routerAdd`), on the same server with Galley's body limits,
 * auth and error shape. A route that cannot match any of Galley's own URLs (`/api/posts/stats`)
 * is served before Galley's routers, so its requests skip their walk; from the first route that
 * could (`/api/:name`) on, the routes come after them, so Galley's own always win and the
 * registration order holds. The routers are rebuilt when the registry changes, never per request.
 */
export function customRoutes(deps: CustomRoutesDeps): CustomRouters {
  let built: { registry: HookRegistry; early: Router; late: Router } | null = null;
  const routers = () => {
    const registry = deps.registry();
    if (!registry || registry.routes.length === 0) return null;
    if (built?.registry !== registry) built = { registry, ...buildRouters(registry, deps) };
    return built;
  };
  return {
    early: (req, res, next) => {
      const r = routers();
      if (r) r.early(req, res, next);
      else next();
    },
    late: (req, res, next) => {
      const r = routers();
      if (r) r.late(req, res, next);
      else next();
    },
  };
}

function buildRouters(registry: HookRegistry, deps: CustomRoutesDeps): { early: Router; late: Router } {
  const cut = registry.routes.findIndex((route) => mayMatchGalleyPath(route.path));
  const split = cut < 0 ? registry.routes.length : cut;
  return { early: buildRouter(registry.routes.slice(0, split), deps), late: buildRouter(registry.routes.slice(split), deps) };
}

function buildRouter(routes: readonly RouteHook[], deps: CustomRoutesDeps): Router {
  const router = Router();
  for (const route of routes) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';
    router[method](route.path, handle((req) => runRoute(route, req, deps)));
  }
  return router;
}

async function runRoute(route: RouteHook, req: Request, deps: CustomRoutesDeps): Promise<Reply> {
  const auth = await authOf(deps.records, req);
  checkAuth(route, auth?.collection.name ?? null);
  const body = await readRequestBody(req);
  refuseUploads(body);
  let query: Record<string, string> | undefined;
  let headers: Record<string, string> | undefined;
  const event: RouteEvent = {
    // The query and header maps are built on first read: most routes read neither.
    request: {
      method: req.method,
      path: req.path,
      params: { ...(req.params as Record<string, string>) },
      get query() {
        return (query ??= firstValues(req.query as Record<string, unknown>));
      },
      get headers() {
        return (headers ??= firstHeaders(req));
      },
      body: body.data,
    },
    auth: auth ? withoutSecrets(auth.record) : null,
    superuser: auth?.collection.name === '_superusers',
    app: hookApp(deps.services, describe(route.origin), 1),
    json: (status, value) => ({ status, body: value }),
    text: (status, value) => ({ status, body: String(value), contentType: 'text/plain; charset=utf-8' }),
    noContent: () => ({ status: 204 }),
  };
  let result: RouteResult;
  try {
    result = await route.run(event);
  } catch (err) {
    throw apiErrorToAppError(err);
  }
  return toReply(route, result);
}

/** Header names as sent (lower-cased by Node), first value of each. */
function firstHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? (value[0] ?? '') : value;
  return out;
}

/** `options.auth`: true → any signed-in record; names → records of those collections (401 / 403 as PocketBase). */
function checkAuth(route: RouteHook, collection: string | null): void {
  const wanted = route.options.auth;
  if (wanted === undefined || wanted === false) return;
  if (collection === null) throw new AppError('unauthorized');
  if (wanted === true) return;
  const names = typeof wanted === 'string' ? [wanted] : wanted;
  if (!names.includes(collection)) throw new AppError('auth_other_collection');
}

function toReply(route: RouteHook, result: RouteResult): Reply {
  if (!result || typeof result !== 'object' || !Number.isInteger(result.status) || result.status < 100 || result.status > 599) {
    throw new Error(`${describe(route.origin)} must return e.json(status, body), e.text(status, body) or e.noContent()`);
  }
  if (result.contentType) return { status: result.status, text: String(result.body ?? ''), headers: { 'Content-Type': result.contentType } };
  return result.body === undefined ? { status: result.status } : { status: result.status, body: result.body };
}
