import type { Application, Request } from 'express';

/**
 * Handlers still running. A client that disconnects closes its socket, so `server.close()` can
 * resolve while its handler is still writing to the database; shutdown waits for this count to
 * reach zero (up to its timeout) before closing the pool, so no handler is cut off halfway.
 */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  start(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when no handler runs, or after `timeoutMs`. */
  idle(timeoutMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const KEY = 'galleyInFlight';

export function attachInFlight(app: Application): InFlight {
  const tracker = new InFlight();
  app.locals[KEY] = tracker;
  return tracker;
}

export function inFlightOf(req: Request): InFlight | undefined {
  return appInFlight(req.app);
}

export function appInFlight(app: Application): InFlight | undefined {
  return app.locals[KEY] as InFlight | undefined;
}
