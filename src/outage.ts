/**
 * A lost dependency is an outage, never a bug: errors that mean "PostgreSQL or Redis cannot be
 * reached right now" are told apart from the rest, so requests get a 503 with Retry-After
 * instead of a 500, and the log gets one line when an outage starts and one, with its length,
 * when it ends — not one per request.
 *
 * @example
 *   const outages = createOutages(logger);
 *   pool.on('error', (error) => outages.down('database', error));
 *   pool.on('connect', () => outages.up('database'));
 *   if (isOutage(error)) ... // 503
 */
import type { Logger } from 'pino';

export type Dependency = 'database' | 'redis';

/** Seconds a client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

const DISK_FULL = '53100';
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/**
 * PostgreSQL: shutting down or starting, too many connections, a statement cancelled by its
 * timeout, a read-only server (a standby), its disk full.
 */
const POSTGRES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '25006', DISK_FULL]);
/** Redis replies that mean "not now": loading, a cluster or replica in transition. */
const REDIS_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY)\b/;
/** Redis refusing writes: full (OOM), unable to save (MISCONF), too few replicas (NOREPLICAS). */
const REFUSING = /^(OOM|MISCONF|NOREPLICAS)\b/;
/** A dependency that answers but refuses writes: Redis as above, PostgreSQL with its disk full. */
const refusesWrites = (error: unknown) =>
  error instanceof Error &&
  (REFUSING.test(error.message) || (error as { code?: unknown }).code === DISK_FULL);
const MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Query read timeout|Client (is closed|is offline)|Socket closed unexpectedly|Connection timeout|Command timeout|The client is closed/i;
const REDIS_ERRORS = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'ConnectionTimeoutError',
  'SocketClosedUnexpectedlyError',
  'SocketTimeoutError',
  'TimeoutError',
  'ReconnectStrategyError',
  'RootNodesUnavailableError',
]);

/**
 * The client's doing, not a dependency's: it hung up before its body ended (Node's 'aborted',
 * ECONNRESET like a lost database connection, but a socket error of ours names its syscall), or
 * it sent bytes HTTP cannot parse (Node's HPE_ codes).
 */
export function isClientFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (error.message === 'aborted' && code === 'ECONNRESET' && !('syscall' in error)) ||
    (typeof code === 'string' && code.startsWith('HPE_'))
  );
}

/**
 * For Koa's 'error' event (our application's and the engine's): what breaks outside a handler,
 * such as a request stream failing after the answer began, is logged once through the logger
 * instead of printed to stderr by Koa; a client's fault not at all.
 */
export const logStreamErrors = (logger: Logger) => (error: unknown) => {
  if (!isClientFault(error)) logger.warn({ err: error }, 'request failed outside a handler');
};

/** Whether `error` (or what caused it) says a dependency is unreachable rather than that something is wrong. */
export function isOutage(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3 || isClientFault(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK.has(code) || POSTGRES.has(code) || code.startsWith('08')))
    return true;
  if (REDIS_ERRORS.has(error.name) || error.name === 'OutageError') return true;
  // node-redis names its error replies ErrorReply (v4) or SimpleError (v5 and later).
  if (
    ['ErrorReply', 'SimpleError', 'BlobError'].includes(error.constructor.name) &&
    (REDIS_REPLY.test(error.message) || REFUSING.test(error.message))
  )
    return true;
  if (MESSAGES.test(error.message)) return true;
  const nested = (error as { cause?: unknown; errors?: unknown[] }).errors ?? [];
  return [(error as { cause?: unknown }).cause, ...nested].some((inner) => isOutage(inner, depth + 1));
}

/** node-redis's errors keep the name `Error`: their class tells them apart. */
const isRedisError = (error: Error) =>
  REDIS_ERRORS.has(error.constructor.name) ||
  REDIS_ERRORS.has(error.name) ||
  error.constructor.name === 'ErrorReply';

/**
 * Which dependency an outage error came from: as marked (an OutageError, or a Redis command's
 * failure, marked by redis.ts), else Redis's errors by their class; the rest is PostgreSQL.
 */
export function dependencyOf(error: unknown): Dependency {
  const marked = (error as { dependency?: unknown } | undefined)?.dependency;
  if (marked === 'redis' || marked === 'database') return marked;
  return error instanceof Error && isRedisError(error) ? 'redis' : 'database';
}

/**
 * PostgreSQL alive but too busy for this request: no connection of the pool came free within the
 * connection timeout (pg-pool's message), or the server itself cancelled a statement that ran
 * past its timeout (57014, a lock held too long).
 */
const isOverload = (error: unknown) =>
  error instanceof Error &&
  (error.message === 'timeout exceeded when trying to connect' ||
    (error as { code?: unknown }).code === '57014');

/** Raised where a dependency is known to be down, so callers answer at once instead of waiting. */
export class OutageError extends Error {
  readonly dependency: Dependency;
  constructor(dependency: Dependency) {
    super(`${dependency} is unreachable`);
    this.name = 'OutageError';
    this.dependency = dependency;
  }
}

export function createOutages(
  logger: Pick<Logger, 'error' | 'warn'>,
  /** Told of every failure (metrics), logged or not. */
  onFailure: (dependency: Dependency) => void = () => {},
) {
  const since = new Map<Dependency, number>();
  const refusalTold = new Map<Dependency, number>();
  return {
    /** The dependency failed: the first failure of an outage is logged, the rest are not. */
    down(dependency: Dependency, error?: unknown) {
      onFailure(dependency);
      // It answers but refuses writes: no outage that an answer would end (reads go on), so it is
      // told once a minute for as long as it lasts, and a later outage is told as ever.
      if (refusesWrites(error)) {
        if (performance.now() - (refusalTold.get(dependency) ?? Number.NEGATIVE_INFINITY) < 60_000) return;
        refusalTold.set(dependency, performance.now());
        return logger.error(
          { dependency, reason: (error as Error).message },
          `${dependency} refuses writes: answering 503 where one is needed`,
        );
      }
      // Too much work at once, answered 503; but the database answers (a hung one is told by the
      // stall watch), so the others go on.
      if (isOverload(error) || since.has(dependency)) return;
      since.set(dependency, Date.now());
      logger.error(
        { dependency, reason: (error as Error | undefined)?.message },
        `${dependency} unreachable: answering 503 until it is back`,
      );
    },
    /** The dependency answered: an outage in progress ends, with its length logged. */
    up(dependency: Dependency) {
      const start = since.get(dependency);
      if (start === undefined) return;
      since.delete(dependency);
      logger.warn({ dependency, seconds: (Date.now() - start) / 1000 }, `${dependency} is back`);
    },
    isDown: (dependency: Dependency) => since.has(dependency),
  };
}

export type Outages = ReturnType<typeof createOutages>;
