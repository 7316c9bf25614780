import express, { type Express } from 'express';
import type { Logger } from '../log/index.js';
import { errorHandler, notFound } from './error-handler.js';
import { attachInFlight } from './in-flight.js';
import { requestLogger } from './request-id.js';
import { healthRoutes } from './routes-health.js';
import { batchRoutes } from './routes-batch.js';
import { collectionRoutes } from './routes-collections.js';
import { adminRoutes, type AdminHttpDeps } from './routes-admin.js';
import { authRoutes, type AuthHttpDeps } from './routes-auth.js';
import { recordRoutes, type RecordsHttpDeps } from './routes-records.js';
import { securityHeaders } from './security-headers.js';

/**
 * Node's default 16 KiB header limit answers a long (percent-encoded) filter with a bare 431;
 * with 64 KiB the request reaches the API, which refuses filters over 3500 characters in JSON.
 */
export const MAX_HEADER_SIZE = 64 * 1024;

export interface HttpDeps {
  log: Logger;
  /** Absent in processes that serve no records (e.g. a bare health check). */
  records?: RecordsHttpDeps;
  /** The auth endpoints; they need the records too. */
  auth?: AuthHttpDeps;
  /** The admin panel and its migrations endpoint. */
  admin?: AdminHttpDeps;
  /** Express `trust proxy` (the client IP behind a load balancer, for rate limits and logs). */
  trustProxy?: number | string | false;
}

/** The Express adapter: middleware, routes, and the one error mapping. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  attachInFlight(app);
  app.set('trust proxy', deps.trustProxy ?? false);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogger(deps.log));
  app.use(securityHeaders);
  app.use(healthRoutes());
  if (deps.records) {
    if (deps.auth) app.use(authRoutes(deps.records, deps.auth));
    app.use(recordRoutes(deps.records));
    app.use(batchRoutes(deps.records));
    app.use(collectionRoutes(deps.records));
    if (deps.admin) app.use(adminRoutes(deps.records, deps.admin));
  }
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}

export { errorBody, type ErrorBody } from './error-handler.js';
export { appInFlight, type InFlight } from './in-flight.js';
export type { RecordsHttpDeps } from './routes-records.js';
export type { AuthHttpDeps } from './routes-auth.js';
export { ADMIN_DIST, type AdminHttpDeps } from './routes-admin.js';
