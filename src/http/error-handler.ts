import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';

/** The PocketBase error body plus Galley's stable `code`. */
export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  data: Record<string, unknown>;
}

/** `res.locals` key of the error code a response carries. */
export const ERROR_CODE_LOCAL = 'galleyErrorCode';

export function errorBody(err: AppError): ErrorBody {
  return { status: err.status, code: err.code, message: err.message, data: err.data };
}

/** The one place errors become HTTP responses; unknown errors are logged and answered with a generic 500. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.status >= 500) log.error({ err, reqId: req.headers['x-request-id'] }, 'request failed');
    // The request's log line (request-id.ts) carries the code next to its request id.
    res.locals[ERROR_CODE_LOCAL] = appError.code;
    if (res.headersSent) return;
    res.status(appError.status).json(errorBody(appError));
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number };
  // body-parser's errors carry a type and status; none of their text is shown.
  if (e.type === 'entity.too.large') return new AppError('request_too_large');
  if (e.type === 'entity.parse.failed' || e.status === 400) return new AppError('bad_request');
  return new AppError('internal');
}

export const notFound: RequestHandler = (_req, _res, next) => next(new AppError('not_found'));
