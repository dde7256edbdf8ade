/**
 * Fixed-window counters for brute-force limits, in Redis or (embedded mode) in the database.
 * One round trip per hit. Keys name what they count: `pwd:acct:<hmac>`, `pwd:ip:<address>`.
 *
 * @example
 *   const limiter = createLimiter(counters, { name: 'pwd:acct', limit: 5, windowSeconds: 900 });
 *   const state = await limiter.peek(accountKey); // { blocked, retryAfterSeconds }
 *   await limiter.hit(accountKey);
 */
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';
import type { RedisClient } from '../redis.ts';

export interface CounterStore {
  /** Adds one hit; returns the count in the current window and the seconds until it ends. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; resetSeconds: number }>;
  get(key: string): Promise<{ count: number; resetSeconds: number }>;
  reset(key: string): Promise<void>;
}

export function createRedisCounters(redis: RedisClient, prefix: string): CounterStore {
  const keyOf = (key: string) => `${prefix}rate:{${key}}`;
  return {
    async hit(key, windowSeconds) {
      const [count, , ttl] = (await redis
        .multi()
        .incr(keyOf(key))
        .expire(keyOf(key), windowSeconds, 'NX')
        .ttl(keyOf(key))
        .exec()) as unknown as [number, number, number];
      return { count, resetSeconds: Math.max(ttl, 0) };
    },
    async get(key) {
      const [count, ttl] = (await redis.multi().get(keyOf(key)).ttl(keyOf(key)).exec()) as unknown as [
        string | null,
        number,
      ];
      return { count: Number(count ?? 0), resetSeconds: Math.max(ttl, 0) };
    },
    async reset(key) {
      await redis.del(keyOf(key));
    },
  };
}

export function createSqlCounters(db: Kysely<Schema>): CounterStore {
  const secondsLeft = sql<number>`greatest(0, ceil(extract(epoch from expires_at - now())))::int`;
  return {
    async hit(key, windowSeconds) {
      const row = await db
        .insertInto('rate_counters')
        .values({ key, hits: 1, expires_at: sql`now() + make_interval(secs => ${windowSeconds})` })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            hits: sql`CASE WHEN rate_counters.expires_at <= now() THEN 1 ELSE rate_counters.hits + 1 END`,
            expires_at: sql`CASE WHEN rate_counters.expires_at <= now() THEN excluded.expires_at ELSE rate_counters.expires_at END`,
          }),
        )
        .returning(['hits', secondsLeft.as('reset')])
        .executeTakeFirstOrThrow();
      return { count: row.hits, resetSeconds: row.reset };
    },
    async get(key) {
      const row = await db
        .selectFrom('rate_counters')
        .select(['hits', secondsLeft.as('reset')])
        .where('key', '=', key)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
      return { count: row?.hits ?? 0, resetSeconds: row?.reset ?? 0 };
    },
    async reset(key) {
      await db.deleteFrom('rate_counters').where('key', '=', key).execute();
    },
  };
}

export interface Limiter {
  /** Whether the key is over its limit now, without counting. */
  peek(key: string): Promise<{ blocked: boolean; retryAfterSeconds: number }>;
  hit(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export function createLimiter(
  store: CounterStore,
  rule: { name: string; limit: number; windowSeconds: number },
): Limiter {
  const keyOf = (key: string) => `${rule.name}:${key}`;
  return {
    async peek(key) {
      const { count, resetSeconds } = await store.get(keyOf(key));
      return { blocked: count >= rule.limit, retryAfterSeconds: resetSeconds };
    },
    async hit(key) {
      await store.hit(keyOf(key), rule.windowSeconds);
    },
    reset: (key) => store.reset(keyOf(key)),
  };
}
