/**
 * Following a Redis Cluster's failover where node-redis would not: a master lost or hung while
 * the others answer, until the slot map names the replica promoted in its place.
 *
 * @example
 *   const follow = followPromotions(cluster, 800, () => closed);
 *   cluster.on('node-reconnecting', () => void follow()); // and whenever a command was held
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClusterType } from 'redis';

type Cluster = RedisClusterType;

/**
 * A cluster master that is lost (killed, unreachable) or hangs (stopped, its VM paused) while the
 * others answer: its keys wait for it until the slot map is read again and names the replica
 * promoted in its place. A lost one is noticed by its reconnection attempts; one that hangs keeps
 * its connection open and errs nothing, so it is noticed by a command held past the deadline
 * (on a quiet node it may be the only one sent: then nothing answered at all). Either way every
 * master is pinged, and while some are not connected or do not answer within the deadline, the
 * slot map is read again each second from the others, never from those (where the read would
 * wait too, and node-redis's shared read with it), until they answer or are masters no more,
 * and every slot has a master again (a map read between a master's failure and its replica's
 * promotion leaves its slots out). Reading the map again replaces the old master's connection.
 */
export function followPromotions(cluster: Cluster, ms: number, closed: () => boolean) {
  // One ping in flight per master: one that hangs is not asked again and again.
  const pings = new Map<string, Promise<unknown>>();
  const answers = (node: Cluster['masters'][number]) => {
    const { address, client } = node;
    if (!client?.isReady) return Promise.resolve(false);
    let ping = pings.get(address);
    if (!ping) {
      ping = client.ping().finally(() => pings.delete(address));
      pings.set(address, ping);
    }
    return Promise.race([
      ping.then(
        () => true,
        () => false,
      ),
      sleep(ms, false, { ref: false }),
    ]);
  };
  let following = false;
  return async () => {
    if (following) return;
    following = true;
    try {
      while (!closed()) {
        const lost = new Set<string>();
        await Promise.all(
          cluster.masters.map(async (node) => {
            if (!(await answers(node))) lost.add(node.address);
          }),
        );
        if (lost.size === 0 && covered(cluster)) return;
        // A read that fails (node-redis reports it) or hangs too is tried again a second later.
        // With every master lost, node-redis falls back to the nodes it was configured with.
        const read = cluster._slots.rediscover(undefined, lost).catch(() => {});
        await Promise.race([read, sleep(ms, undefined, { ref: false })]);
        if (!cluster.masters.some((node) => lost.has(node.address)) && covered(cluster)) return;
        await sleep(1000, undefined, { ref: false });
      }
    } finally {
      following = false;
    }
  };
}

/** Whether every one of the cluster's 16,384 slots has a master in the map node-redis holds. */
function covered(cluster: Cluster): boolean {
  for (let slot = 0; slot < 16_384; slot++) if (!cluster.slots[slot]) return false;
  return true;
}
