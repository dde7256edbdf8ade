/**
 * The Redis client: one server, a Redis Cluster, or the master Redis Sentinel points at — the
 * same commands on each (every key Yitong writes together carries one hash tag, so nothing spans
 * two cluster slots). Commands fail at once while the connection is down (no offline queue) and
 * within `commandTimeoutMs` when Redis hangs (withDeadline), so a request answers 503 quickly
 * instead of waiting; the client reconnects and follows a failover on its own, and the outage is
 * logged once.
 *
 * @example
 *   const redis = await connectRedis({ kind: 'cluster', nodes: ['redis://10.0.0.1:7000'] }, { outages });
 */
import { createClient, createCluster, createSentinel, type RedisClusterType } from 'redis';
import { ConfigError } from './config-error.ts';
import type { RedisTarget } from './config-services.ts';
import type { Outages } from './outage.ts';
import { followPromotions } from './redis-follow.ts';

export interface RedisOptions {
  commandTimeoutMs?: number;
  outages?: Pick<Outages, 'down' | 'up'>;
}

export type RedisClient = ReturnType<typeof createClient>;

/** What every connection gets, whatever the topology. */
function clientOptions() {
  return {
    disableOfflineQueue: true,
    // No per-command timer (node-redis arms a 5 s AbortSignal per command by default, firing long
    // after most answers): withDeadline bounds every answer with one timer per client.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: 1000,
      // Every half second at most: Redis back (or a promoted replica found) is noticed soon.
      reconnectStrategy: (retries: number) => Math.min(retries * 100, 500),
    },
  };
}

function createTopology(target: RedisTarget): RedisClient {
  const common = clientOptions();
  if (target.kind === 'single') return createClient({ url: target.url, ...common });
  // The three share the commands Yitong uses; their TypeScript types differ in the rest.
  if (target.kind === 'cluster')
    return createCluster({
      rootNodes: target.nodes.map((url) => ({ url })),
      defaults: common,
      // Not node-redis's own re-reading of the slot map while a node reconnects: it may ask a
      // master that hangs, and wait there for ever, holding every later re-read (its MOVED
      // handling included). followPromotions does it instead, never asking such a node.
      topologyRefreshOnReconnectionAttemptStrategy: false,
    }) as unknown as RedisClient;
  return createSentinel({
    name: target.name,
    sentinelRootNodes: target.sentinels,
    nodeClientOptions: common,
    sentinelClientOptions: { socket: common.socket },
  }) as unknown as RedisClient;
}

/** The commands Yitong sends; each must be answered within the deadline. */
const COMMANDS = new Set(['get', 'set', 'getDel', 'del', 'hmGet', 'zRem', 'eval', 'evalSha']);

/** A command sent and not yet answered. */
interface Waiting {
  since: number;
  reject(error: Error): void;
}

/**
 * node-redis bounds only a command's wait to be written (its timeout ends once the command is on
 * the wire, and arms a timer per command): a Redis that hangs — stopped, or behind a link that
 * drops packets — would hold every request. Here each command gets `ms` for its answer, checked
 * by one timer four times per deadline; a late one fails as an outage (a 503 at once), and the
 * first answer after it ends the outage. `late` is told which kind of lateness it was (see
 * connectRedis): nothing answering at all (`silent`), or one cluster node held while the others
 * answer.
 */
function withDeadline(
  client: RedisClient,
  ms: number,
  outages: RedisOptions['outages'],
  { onClose, late: onLate }: { onClose(): void; late(silent: boolean): void },
): RedisClient {
  const waiting = new Set<Waiting>();
  let late = false;
  // Redis that answers, however slowly (a loaded machine), is not hung: only commands waiting while
  // nothing at all has come back for the whole deadline are failed, the younger ones with them.
  // But a cluster node that hangs while the others answer would hold its commands for ever: none
  // waits past four deadlines (reported by the request that fails; the node's reconnection, or
  // the next late answer, ends the outage).
  let lastAnswer = performance.now();
  const expire = () => {
    const now = performance.now();
    const silent = now - lastAnswer >= ms;
    const longest = silent ? ms : 4 * ms;
    const overdue: Waiting[] = [];
    for (const command of waiting) {
      if (now - command.since < longest && !(silent && overdue.length > 0)) break; // in the order sent
      overdue.push(command);
    }
    if (overdue.length === 0) return;
    const error = Object.assign(new Error(`Redis command timeout: no answer in ${longest} ms`), {
      name: 'TimeoutError',
    });
    for (const command of overdue) {
      waiting.delete(command);
      command.reject(error);
    }
    if (silent) {
      late = true;
      outages?.down('redis', error);
    }
    onLate(silent);
  };
  // After the poll phase (setImmediate): answers already received are read first. A tick that
  // comes late means this process was held (a long synchronous task), not that Redis was: answers
  // may be waiting unread, so the check waits for the next tick.
  const period = ms / 4;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last < period * 2) setImmediate(expire);
    last = now;
  }, period).unref();
  const answered = <T>(promise: Promise<T>): Promise<T> =>
    new Promise((resolve, reject) => {
      const command = { since: performance.now(), reject };
      waiting.add(command);
      promise.then(
        (value) => {
          waiting.delete(command);
          lastAnswer = performance.now();
          if (late) {
            late = false;
            outages?.up('redis');
          }
          resolve(value);
        },
        (error) => {
          waiting.delete(command);
          lastAnswer = performance.now();
          // A socket error (EPIPE, ECONNRESET) looks like any other: say whose it is.
          if (error instanceof Error) Object.assign(error, { dependency: 'redis' });
          reject(error);
        },
      );
    });
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      if (!wrapped.has(name))
        wrapped.set(
          name,
          COMMANDS.has(String(name))
            ? (...args: unknown[]) => answered(value.apply(target, args))
            : name === 'multi'
              ? () => {
                  const multi = value.call(target);
                  const exec = multi.exec.bind(multi);
                  multi.exec = () => answered(exec());
                  return multi;
                }
              : name === 'close' || name === 'destroy'
                ? () => {
                    clearInterval(timer);
                    onClose();
                    // Not connected (Redis missing since start-up, or gone): closing politely would
                    // wait for it, so the attempts are simply stopped.
                    if (target.isReady) return value.call(target);
                    if (target.isOpen) target.destroy();
                    return Promise.resolve();
                  }
                : value.bind(target),
        );
      return wrapped.get(name);
    },
  });
}

/** How long start-up waits for a first connection; past it, Yitong starts and answers 503 where Redis is needed. */
const FIRST_CONNECTION_MS = 2000;

/** Replies to the connection's handshake that only the settings cause (a database it lacks, a wrong password). */
const REFUSED_SETTINGS = /^(ERR DB index is out of range|ERR invalid DB index|WRONGPASS|NOAUTH|ERR AUTH)/;

const VARIABLE = {
  single: 'REDIS_URL',
  cluster: 'REDIS_CLUSTER_NODES',
  sentinel: 'REDIS_SENTINELS',
} as const;

/**
 * Connects, waiting a little for the first connection; reconnects (and follows failovers) on its
 * own afterwards. A Redis missing at start-up is an outage like any other, not a reason to stay
 * down: the server starts, answers 503 where Redis is needed, and heals when it comes. A Redis
 * that refuses the settings themselves (a database number it lacks, a wrong password) stops
 * start-up, naming the variable: waiting would not heal it.
 */
export async function connectRedis(target: RedisTarget, options: RedisOptions = {}): Promise<RedisClient> {
  const client = createTopology(target);
  let refusedSettings: Error | undefined;
  const failed = (error: unknown) => {
    if (error instanceof Error && REFUSED_SETTINGS.test(error.message)) refusedSettings ??= error;
    options.outages?.down('redis', error);
  };
  // An 'error' event must never crash the process: a drop is an outage, told once.
  for (const event of ['error', 'node-error']) client.on(event, failed);
  // Back only once Redis answers: one server or a Sentinel's master says 'ready'; a cluster says
  // 'connect' once it has read its slots. (A Sentinel client says 'connect' before any sentinel
  // has answered.)
  const back = target.kind === 'cluster' ? ['connect', 'node-ready'] : ['ready'];
  for (const event of back) client.on(event, () => options.outages?.up('redis'));
  let closed = false;
  // One server retries by itself; a cluster or Sentinel whose nodes all refuse gives up at once.
  const connect = (): Promise<void> =>
    client.connect().then(
      () => undefined,
      async (error: unknown) => {
        failed(error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (!closed) return connect();
      },
    );
  await Promise.race([connect(), new Promise((resolve) => setTimeout(resolve, FIRST_CONNECTION_MS).unref())]);
  if (refusedSettings) {
    closed = true;
    client.destroy();
    throw new ConfigError(VARIABLE[target.kind], `is refused by Redis: ${refusedSettings.message}`);
  }
  const ms = options.commandTimeoutMs ?? 800;
  const follow =
    target.kind === 'cluster'
      ? followPromotions(client as unknown as RedisClusterType, ms, () => closed)
      : null;
  if (follow) client.on('node-reconnecting', () => void follow());
  return withDeadline(client, ms, options.outages, {
    onClose() {
      closed = true;
    },
    late(silent) {
      if (closed) return;
      // One server's connection is replaced: one that a NAT or a firewall silenced, Redis fine,
      // would never end by itself (TCP gives up after some fifteen minutes), and a new one answers
      // at once; while Redis itself hangs, the new one is not ready, so commands fail at once
      // until it answers. Not a cluster's or a Sentinel's: their new client would look for its
      // topology on the node that hangs, and wait there, failing every key instead of its own.
      if (silent && target.kind === 'single') {
        client.destroy();
        void connect();
      }
      void follow?.();
    },
  });
}

/** A keyed probe (a cluster answers keyless commands on no particular node): is Redis there? */
export const probeRedis = (redis: RedisClient) => redis.get('{yitong}:probe');
