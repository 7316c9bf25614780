import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log/index.js';
import { ERROR_CODE_LOCAL } from './error-handler.js';

/** Echoes or assigns `X-Request-Id` and logs one line per request with it (and the error code of an error answer). */
export function requestLogger(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    // The request line is an info line: below that level its timer and listener are skipped.
    if (!log.isLevelEnabled('info')) return next();
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const code = res.locals[ERROR_CODE_LOCAL] as string | undefined;
      log.info({ reqId: id, method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10, ...(code ? { code } : {}) }, 'request');
    });
    next();
  };
}
