/**
 * Fixed-window counters for brute-force limits, in Redis or (embedded mode) in the database.
 * Every attempt is counted before it is checked, atomically, so a burst of concurrent guesses
 * cannot all slip in before the first failure is recorded. One round trip per attempt.
 *
 * @example
 *   const limiter = createLimiter(counters, { name: 'pwd:acct', limit: 5, windowSeconds: 900 });
 *   const { allowed, retryAfterSeconds } = await limiter.consume(accountKey);
 */
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { MessageKey } from '../messages/index.ts';
import type { RedisClient } from '../redis.ts';

export interface CounterStore {
  /** Adds `by` (1 or -1); returns the count in the current window and the seconds until it ends. */
  add(key: string, by: number, windowSeconds: number): Promise<{ count: number; resetSeconds: number }>;
  reset(key: string): Promise<void>;
  /** Told when a limit refuses an attempt (metrics), by the limit's name. */
  refused?(limit: string): void;
}

export function createRedisCounters(redis: RedisClient, prefix: string): CounterStore {
  const keyOf = (key: string) => `${prefix}rate:{${key}}`;
  return {
    async add(key, by, windowSeconds) {
      const [count, , ttl] = (await redis
        .multi()
        .incrBy(keyOf(key), by)
        .expire(keyOf(key), windowSeconds, 'NX')
        .ttl(keyOf(key))
        .exec()) as unknown as [number, number, number];
      return { count, resetSeconds: Math.max(ttl, 0) };
    },
    async reset(key) {
      await redis.del(keyOf(key));
    },
  };
}

export function createSqlCounters(db: Kysely<Schema>): CounterStore {
  const secondsLeft = sql<number>`greatest(0, ceil(extract(epoch from rate_counters.expires_at - now())))::int`;
  return {
    async add(key, by, windowSeconds) {
      const expired = sql`rate_counters.expires_at <= now()`;
      const row = await db
        .insertInto('rate_counters')
        .values({ key, hits: by, expires_at: sql`now() + make_interval(secs => ${windowSeconds})` })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            hits: sql`CASE WHEN ${expired} THEN excluded.hits ELSE rate_counters.hits + excluded.hits END`,
            expires_at: sql`CASE WHEN ${expired} THEN excluded.expires_at ELSE rate_counters.expires_at END`,
          }),
        )
        .returning(['hits', secondsLeft.as('reset')])
        .executeTakeFirstOrThrow();
      return { count: row.hits, resetSeconds: row.reset };
    },
    async reset(key) {
      await db.deleteFrom('rate_counters').where('key', '=', key).execute();
    },
  };
}

export interface Counted {
  allowed: boolean;
  retryAfterSeconds: number;
  count: number;
}

export interface Limiter {
  /** Counts one attempt; `allowed` is false once the window holds more than the limit (a refusal, in the metrics); `count` includes this one. */
  consume(key: string): Promise<Counted>;
  /** Counts one attempt as `consume` does, for a decision made with other counts: no refusal in the metrics until `refused()`. */
  count(key: string): Promise<Counted>;
  refused(): void;
  /** Takes back one attempt (a success that should not count against a shared address). */
  refund(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface LimitRule {
  name: string;
  limit: number;
  windowSeconds: number;
  /** What the counter is stored under instead of the key: a keyed hash, when the key is a phone number. */
  hideKey?: (key: string) => string;
}

export function createLimiter(store: CounterStore, rule: LimitRule): Limiter {
  const keyOf = (key: string) => `${rule.name}:${rule.hideKey?.(key) ?? key}`;
  const refused = () => store.refused?.(rule.name);
  const count = async (key: string) => {
    const { count, resetSeconds } = await store.add(keyOf(key), 1, rule.windowSeconds);
    return { allowed: count <= rule.limit, retryAfterSeconds: resetSeconds, count };
  };
  return {
    async consume(key) {
      const counted = await count(key);
      if (!counted.allowed) refused();
      return counted;
    },
    count,
    refused,
    async refund(key) {
      await store.add(keyOf(key), -1, rule.windowSeconds);
    },
    reset: (key) => store.reset(keyOf(key)),
  };
}

/** 429 with `code`, saying in how many minutes to try again. */
export function refusal(code: MessageKey, retryAfterSeconds: number, field?: string) {
  return new AppError(code, 429, {
    ...(field && { field }),
    params: { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) },
  });
}

/** Counts one attempt; over the limit, refused (429) with `code`, saying in how many minutes to try again. */
export async function consumeOrRefuse(limiter: Limiter, key: string, code: MessageKey, field?: string) {
  const { allowed, retryAfterSeconds, count } = await limiter.consume(key);
  if (!allowed) throw refusal(code, retryAfterSeconds, field);
  return count;
}

/** The address as written, IPv4-mapped IPv6 unwrapped (`::ffff:1.2.3.4` → `1.2.3.4`). */
export const plainAddress = (ip: string) => ip.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/** The eight groups of an IPv6 address, `::` expanded. */
export function ipv6Groups(address: string): string[] {
  if (!address.includes('::')) return address.split(':');
  const [left = [], right = []] = address.split('::').map((part) => (part ? part.split(':') : []));
  return [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
}

/**
 * The key an address is counted under: IPv4 as is, IPv6 by its /64, since one subscriber
 * usually holds a whole /64.
 */
export function addressKey(ip: string): string {
  const address = plainAddress(ip);
  if (!address.includes(':')) return address;
  return `${ipv6Groups(address)
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The network an address belongs to, for limits a guesser must not dodge by changing address: IPv6 by /48. */
export function networkKey(ip: string): string {
  const address = plainAddress(ip);
  if (!address.includes(':')) return address;
  return `${ipv6Groups(address)
    .slice(0, 3)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/48`;
}
