import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { rateLimit, type Logger as RateLimitLogger, type Options, type Store } from 'express-rate-limit';
import type { RateLimit, RateLimitsConfig } from '../config/index.js';
import type { SqlRunner } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { databaseStore } from './database-store.js';
import type { redisStore as openRedisStore } from './redis-store.js';

export { databaseStore } from './database-store.js';

/**
 * The Redis client (node-redis, ~0.2 s and ~20 MB to load) is imported only when a Redis URL is
 * configured: most deployments keep their counters in the database.
 */
const redisModule = () => import('./redis-store.js');

/** A Redis store on its own connection (see redis-store.ts); loads the Redis client on first use. */
export async function redisStore(...args: Parameters<typeof openRedisStore>): ReturnType<typeof openRedisStore> {
  return (await redisModule()).redisStore(...args);
}

export interface AuthLimiters {
  /** Every request to an auth endpoint, per client IP (IPv6 grouped by /56). */
  perIp: RequestHandler;
  /**
   * Per identity, e.g. `users:alice@example.com` computed from the parsed body; skipped when
   * `keyOf` gives undefined. Counts failed requests (status >= 400) unless `countSuccessful`.
   */
  perIdentity(keyOf: (req: Request) => string | undefined, options?: { countSuccessful?: boolean }): RequestHandler;
  close(): Promise<void>;
}

export interface AuthLimitersOptions {
  limits: RateLimitsConfig;
  /** Where the counters live when there is no Redis. */
  runner: SqlRunner;
  redisUrl: string | null;
  /** Prepended to every Redis key, so that deployments can share one Redis. */
  redisPrefix?: string;
  /** Store errors and misconfiguration warnings; the console without it (express-rate-limit's default). */
  log?: Logger;
}

const DEFAULT_REDIS_PREFIX = 'galley:rl:';
/** Longer identities (only an attacker sends a 1 MB "email") are hashed: keys stay indexable in PostgreSQL and small in Redis. */
const MAX_IDENTITY_LENGTH = 256;

/**
 * express-rate-limit's checks run once per limiter, on its first request. Dropped: `forwardedHeader`
 * (any client can send `Forwarded`, and its advice — key on that header — would let clients choose
 * their IP). Kept: the IP and trust-proxy checks, store reuse, double counting, key generator source, and options.
 */
const VALIDATE = { forwardedHeader: false } as const;

const passThrough: RequestHandler = (_req, _res, next) => next();

export async function createAuthLimiters(options: AuthLimitersOptions): Promise<AuthLimiters> {
  const logger = options.log ? rateLimitLogger(options.log) : consoleLogger;
  const redis = options.redisUrl ? await (await redisModule()).connectRedis(options.redisUrl, logger) : null;
  const redisPrefix = options.redisPrefix ?? DEFAULT_REDIS_PREFIX;
  const storeFor = (prefix: string): Store => (redis ? redis.store(redisPrefix + prefix) : databaseStore(options.runner, prefix));
  const { authPerIp, authPerIdentity } = options.limits;
  return {
    // No keyGenerator: express-rate-limit's own is ipKeyGenerator(req.ip, ipv6Subnet) preceded by its
    // IP and trust-proxy checks, which a custom one would skip.
    perIp: limiter(authPerIp, () => storeFor('auth-ip:'), { identifier: 'auth-ip', ipv6Subnet: 56, logger }),
    perIdentity(keyOf, { countSuccessful = false } = {}) {
      // Its own counters: a request that counts for "emails sent" must not count as a failed sign-in.
      const name = countSuccessful ? 'auth-id-all' : 'auth-id';
      const identity = (req: Request) => identityKey(keyOf(req));
      return limiter(authPerIdentity, () => storeFor(`${name}:`), {
        identifier: name,
        skip: (req) => identity(req) === undefined,
        keyGenerator: (req) => identity(req) ?? '',
        skipSuccessfulRequests: !countSuccessful,
        logger,
      });
    },
    close: async () => redis?.close(),
  };
}

/** The store is made only for an enabled limit: each limiter needs its own (express-rate-limit refuses to share one). */
function limiter(limit: RateLimit, store: () => Store, options: Partial<Options>): RequestHandler {
  if (limit.max === 0) return passThrough;
  return rateLimit({
    windowMs: limit.windowSeconds * 1000,
    limit: limit.max,
    store: store(),
    standardHeaders: 'draft-8', // draft-8 appends: the per-IP and per-identity policies both show on one response
    legacyHeaders: false,
    // Retry-After is already set; the 429 body is the app's error handler's, like every other error.
    handler: (_req, _res, next) => next(new AppError('rate_limited')),
    validate: VALIDATE,
    // A store outage (Redis or database down) lets requests through, logged once per failure,
    // rather than answering 500: argon2 still slows guessing, and sign-in keeps working.
    passOnStoreError: true,
    ...options,
  });
}

function identityKey(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const key = raw.toLowerCase();
  return key.length <= MAX_IDENTITY_LENGTH ? key : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

function rateLimitLogger(log: Logger): RateLimitLogger {
  return {
    warn: (err, message) => log.warn({ err }, message ?? 'rate limits: warning'),
    error: (err, message) => log.error({ err }, message ?? 'rate limits: error'),
  };
}

/** What express-rate-limit does without a logger; the Redis connection reports through it too. */
const consoleLogger: RateLimitLogger = {
  warn: (err, message) => console.warn(message ?? '', err),
  error: (err, message) => console.error(message ?? '', err),
};
