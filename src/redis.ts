/**
 * The Redis client: commands fail at once while the connection is down (no offline queue) and
 * within `commandTimeoutMs` when Redis hangs, so a request answers 503 quickly instead of
 * waiting; the client reconnects on its own and the outage is logged once.
 */
import { createClient } from 'redis';
import type { Outages } from './outage.ts';

export interface RedisOptions {
  commandTimeoutMs?: number;
  outages?: Pick<Outages, 'down' | 'up'>;
}

function createRedisClient(url: string, options: RedisOptions) {
  return createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs ?? 800 },
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries) => Math.min(retries * 100, 2000),
    },
  });
}

export type RedisClient = ReturnType<typeof createRedisClient>;

/** Connects and waits until Redis answers; reconnects on its own afterwards. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<RedisClient> {
  const client = createRedisClient(url, options);
  // An 'error' event must never crash the process: a drop is an outage, told once.
  client.on('error', (error) => options.outages?.down('redis', error));
  client.on('ready', () => options.outages?.up('redis'));
  await client.connect();
  return client;
}
