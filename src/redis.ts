import { createClient } from 'redis';

function createRedisClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000) } });
}

export type RedisClient = ReturnType<typeof createRedisClient>;

/** Connects and waits until Redis answers; reconnects on its own afterwards. */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client = createRedisClient(url);
  // Connection drops surface as failed commands and in /readyz; an 'error' event must not crash the process.
  client.on('error', () => {});
  await client.connect();
  return client;
}
