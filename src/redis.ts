/**
 * The Redis client: one server, a Redis Cluster, or the master Redis Sentinel points at — the
 * same commands on each (every key Yitong writes together carries one hash tag, so nothing spans
 * two cluster slots). Commands fail at once while the connection is down (no offline queue) and
 * within `commandTimeoutMs` when Redis hangs, so a request answers 503 quickly instead of
 * waiting; the client reconnects and follows a failover on its own, and the outage is logged
 * once.
 *
 * @example
 *   const redis = await connectRedis({ kind: 'cluster', nodes: ['redis://10.0.0.1:7000'] }, { outages });
 */
import { createClient, createCluster, createSentinel } from 'redis';
import type { RedisTarget } from './config.ts';
import type { Outages } from './outage.ts';

export interface RedisOptions {
  commandTimeoutMs?: number;
  outages?: Pick<Outages, 'down' | 'up'>;
}

export type RedisClient = ReturnType<typeof createClient>;

/** What every connection gets, whatever the topology. */
function clientOptions(options: RedisOptions) {
  return {
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs ?? 800 },
    socket: {
      connectTimeout: 1000,
      // Every half second at most: Redis back (or a promoted replica found) is noticed soon.
      reconnectStrategy: (retries: number) => Math.min(retries * 100, 500),
    },
  };
}

function createTopology(target: RedisTarget, options: RedisOptions): RedisClient {
  const common = clientOptions(options);
  if (target.kind === 'single') return createClient({ url: target.url, ...common });
  // The three share the commands Yitong uses; their TypeScript types differ in the rest.
  if (target.kind === 'cluster')
    return createCluster({
      rootNodes: target.nodes.map((url) => ({ url })),
      defaults: common,
      commandOptions: common.commandOptions,
      // A dead master answers nothing (no MOVED to learn from): re-read the slot map 1 s into
      // its reconnection attempts, and about each second after, until the promoted replica shows.
      topologyRefreshOnReconnectionAttemptStrategy: 1000,
    }) as unknown as RedisClient;
  return createSentinel({
    name: target.name,
    sentinelRootNodes: target.sentinels,
    nodeClientOptions: common,
    sentinelClientOptions: { socket: common.socket },
    commandOptions: common.commandOptions,
  }) as unknown as RedisClient;
}

/** Connects and waits until Redis answers; reconnects (and follows failovers) on its own afterwards. */
export async function connectRedis(target: RedisTarget, options: RedisOptions = {}): Promise<RedisClient> {
  const client = createTopology(target, options);
  // An 'error' event must never crash the process: a drop is an outage, told once.
  for (const event of ['error', 'node-error'])
    client.on(event, (error: unknown) => options.outages?.down('redis', error));
  for (const event of ['ready', 'node-ready', 'connect'])
    client.on(event, () => options.outages?.up('redis'));
  await client.connect();
  return client;
}

/** A keyed probe (a cluster answers keyless commands on no particular node): is Redis there? */
export const probeRedis = (redis: RedisClient) => redis.get('{yitong}:probe');
