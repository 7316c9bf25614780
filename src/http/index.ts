import express, { type Express } from 'express';
import type { AppHooks } from '../hooks/index.js';
import type { Logger } from '../log/index.js';
import { errorHandler, notFound } from './error-handler.js';
import { admission } from './admission.js';
import { attachInFlight } from './in-flight.js';
import { compressResponses } from './compression.js';
import { metricsRoutes, requestMetrics, type MetricsHttpDeps } from './metrics.js';
import { openApiRoutes, type OpenApiHttpDeps } from './routes-openapi.js';
import { requestLogger } from './request-id.js';
import { healthRoutes } from './routes-health.js';
import { batchRoutes } from './routes-batch.js';
import { collectionRoutes } from './routes-collections.js';
import { adminRoutes, type AdminHttpDeps } from './routes-admin.js';
import { authRoutes, type AuthHttpDeps } from './routes-auth.js';
import { customRoutes, type CustomRouters } from './routes-custom.js';
import { recordRoutes, type RecordsHttpDeps } from './routes-records.js';
import { realtimeRoutes, type RealtimeHttpDeps } from './routes-realtime.js';
import { fileRoutes } from './routes-files.js';
import { queryParsedOnce } from './request-info.js';
import { securityHeaders } from './security-headers.js';

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
  /** GALLEY_MAX_IN_FLIGHT: requests handled at once before a fast 503 (0 or absent = no limit). */
  maxInFlight?: number;
  /** The hooks files' custom routes (routerAdd). */
  hooks?: AppHooks;
  /** Request metrics and `GET /metrics`. */
  metrics?: MetricsHttpDeps;
  /** `GET /api/openapi.json` and the reference page `/api/docs`. */
  openapi?: OpenApiHttpDeps;
  /** gzip/brotli of responses over 1 KB (default true). */
  compression?: boolean;
  /** `GET/POST /api/realtime` (SSE). */
  realtime?: RealtimeHttpDeps;
}

/** The Express adapter: middleware, routes, and the one error mapping. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  attachInFlight(app);
  app.set('trust proxy', deps.trustProxy ?? false);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(queryParsedOnce);
  app.use(requestLogger(deps.log));
  if (deps.metrics) app.use(requestMetrics(deps.metrics.metrics.http));
  app.use(admission(deps.maxInFlight ?? 0));
  if (deps.compression !== false) app.use(compressResponses());
  app.use(securityHeaders);
  const custom = deps.records && deps.hooks ? customRoutesOf(deps.hooks, deps.records) : null;
  if (custom) app.use(custom.early);
  // The records routes first: most requests are theirs, and no other router's paths overlap them.
  if (deps.records) app.use(recordRoutes(deps.records));
  app.use(healthRoutes());
  if (deps.metrics) app.use(metricsRoutes(deps.metrics));
  if (deps.openapi) app.use(openApiRoutes(deps.openapi));
  if (deps.records) {
    if (deps.auth) app.use(authRoutes(deps.records, deps.auth));
    app.use(batchRoutes(deps.records));
    const files = deps.records.files;
    if (files) app.use(fileRoutes({ ...deps.records, files }));
    app.use(collectionRoutes(deps.records));
    if (deps.realtime) app.use(realtimeRoutes(deps.records, deps.realtime));
    if (deps.admin) app.use(adminRoutes(deps.records, deps.admin));
    if (custom) app.use(custom.late);
  }
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}

function customRoutesOf(hooks: AppHooks, records: RecordsHttpDeps): CustomRouters {
  return customRoutes({ registry: () => hooks.registry(), services: hooks.services, records });
}

export { errorBody, type ErrorBody } from './error-handler.js';
export { createHttpServer, MAX_HEADER_SIZE } from './server.js';
export { appInFlight, type InFlight } from './in-flight.js';
export type { RecordsHttpDeps } from './routes-records.js';
export type { AuthHttpDeps } from './routes-auth.js';
export { ADMIN_DIST, type AdminHttpDeps } from './routes-admin.js';
export { REFERENCE_ASSETS, type OpenApiHttpDeps } from './routes-openapi.js';
export type { MetricsHttpDeps } from './metrics.js';
export type { RealtimeHttpDeps } from './routes-realtime.js';
