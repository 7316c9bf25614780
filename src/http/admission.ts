import type { Request, RequestHandler } from 'express';
import { AppError } from '../errors/index.js';

/** Never shed: what a load balancer probes, and long-lived realtime streams (they have their own cap). */
function exempt(req: Request): boolean {
  return req.path === '/api/health' || (req.method === 'GET' && req.path === '/api/realtime');
}

/**
 * Load shedding (GALLEY_MAX_IN_FLIGHT): past `max` requests being handled, a new one is answered
 * at once with 503 `overloaded` and `Retry-After: 1`, before it reads its body or touches the
 * database. A flood of requests then costs the node a small, fixed amount of memory and the
 * requests it does accept stay fast; health checks always answer.
 */
export function admission(max: number): RequestHandler {
  let inFlight = 0;
  return (req, res, next) => {
    if (max <= 0 || exempt(req)) return next();
    if (inFlight >= max) {
      res.setHeader('Retry-After', '1');
      return next(new AppError('overloaded'));
    }
    inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      inFlight--;
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}
