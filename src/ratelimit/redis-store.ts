import type { ClientRateLimitInfo, Logger, Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { createClient } from 'redis';

const MAX_RECONNECT_DELAY_MS = 2000;

/** One Redis connection serving the stores of several limiters (each limiter needs its own store). */
export interface RedisConnection {
  store(prefix: string): Store;
  close(): Promise<void>;
}

/**
 * Connects to Redis, or rejects when it cannot be reached: a node that was told to share its
 * counters through Redis must not start without it. Once connected, outages are retried in the
 * background; meanwhile commands fail at once (no offline queue), so rate-limited requests
 * answer 500 instead of hanging or passing unlimited.
 */
export async function connectRedis(url: string, logger: Logger): Promise<RedisConnection> {
  let connected = false;
  let healthy = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => (connected ? Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) : false) },
  });
  // Without a listener an 'error' event would crash the process; node-redis emits one per retry, so log once per outage.
  client.on('error', (err: unknown) => {
    if (healthy) logger.error(err, 'rate limits: lost the Redis connection, reconnecting');
    healthy = false;
  });
  client.on('ready', () => (healthy = true));
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`Cannot connect to Redis at ${redactedUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  connected = true;
  return {
    store: (prefix) => new GalleyRedisStore({ prefix, sendCommand: (...args: string[]) => client.sendCommand<RedisReply>(args) }),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}

/**
 * rate-limit-redis reads a missing key as `{ totalHits: NaN }` (node-redis answers nil with null,
 * the script expects false); like the other stores, a key without a live window is undefined.
 */
class GalleyRedisStore extends RedisStore {
  override async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const info = await super.get(key);
    if (!info || !Number.isFinite(info.totalHits) || !info.resetTime || info.resetTime.getTime() <= Date.now()) return undefined;
    return info;
  }
}

/** A store on its own connection; `close()` ends it. */
export async function redisStore(url: string, prefix: string, logger: Logger = console): Promise<Store & { close(): Promise<void> }> {
  const connection = await connectRedis(url, logger);
  return Object.assign(connection.store(prefix), { close: connection.close });
}

function redactedUrl(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}
