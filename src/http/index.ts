import express, { type Express } from 'express';
import type { Logger } from '../log/index.js';
import { errorHandler, notFound } from './error-handler.js';
import { requestLogger } from './request-id.js';
import { healthRoutes } from './routes-health.js';
import { securityHeaders } from './security-headers.js';

export interface HttpDeps {
  log: Logger;
}

/** The Express adapter: middleware, routes, and the one error mapping. */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogger(deps.log));
  app.use(securityHeaders);
  app.use(express.json({ limit: '32mb' }));
  app.use(healthRoutes());
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}

export { errorBody, type ErrorBody } from './error-handler.js';
