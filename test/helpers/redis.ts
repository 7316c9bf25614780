import { createClient } from 'redis';

/** Why Redis at `url` cannot be used (a message), or null when it answers PING. */
export async function redisUnreachable(url: string, connectTimeoutMs = 2000): Promise<string | null> {
  const client = createClient({ url, socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    if (client.isOpen) await client.close();
  }
}
