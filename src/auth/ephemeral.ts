/**
 * Short-lived, single-use values shared by every node: WebAuthn challenges and half-finished
 * sign-ins. Redis when configured, otherwise the database; never process memory, so a challenge
 * issued by one node can be answered at another. `take` reads and deletes in one step: a value
 * is used once.
 *
 * @example
 *   await store.put(`webauthn:${uid}`, { challenge }, 300);
 *   const value = await store.take<{ challenge: string }>(`webauthn:${uid}`); // undefined the second time
 */
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';
import type { RedisClient } from '../redis.ts';

export interface EphemeralStore {
  put(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  take<T>(key: string): Promise<T | undefined>;
  /** Reads without consuming (a pending sign-in shown again after a wrong code). */
  peek<T>(key: string): Promise<T | undefined>;
}

export function createRedisEphemeralStore(redis: RedisClient, prefix: string): EphemeralStore {
  const keyOf = (key: string) => `${prefix}eph:${key}`;
  const parse = <T>(raw: string | null) => (raw === null ? undefined : (JSON.parse(raw) as T));
  return {
    async put(key, value, ttlSeconds) {
      await redis.set(keyOf(key), JSON.stringify(value), { expiration: { type: 'EX', value: ttlSeconds } });
    },
    take: async (key) => parse(await redis.getDel(keyOf(key))),
    peek: async (key) => parse(await redis.get(keyOf(key))),
  };
}

export function createSqlEphemeralStore(db: Kysely<Schema>): EphemeralStore {
  return {
    async put(key, value, ttlSeconds) {
      const row = {
        key,
        value: JSON.stringify(value),
        expires_at: sql<Date>`now() + make_interval(secs => ${ttlSeconds})`,
      };
      await db
        .insertInto('ephemeral')
        .values(row)
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: row.value, expires_at: row.expires_at }))
        .execute();
    },
    async take(key) {
      const row = await db
        .deleteFrom('ephemeral')
        .where('key', '=', key)
        .returning(['value', sql<boolean>`expires_at > now()`.as('live')])
        .executeTakeFirst();
      return row?.live ? (row.value as never) : undefined;
    },
    async peek(key) {
      const row = await db
        .selectFrom('ephemeral')
        .select('value')
        .where('key', '=', key)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
      return row?.value as never;
    },
  };
}

/** Deletes expired values (the Redis store expires its own). */
export async function sweepExpiredEphemeral(db: Kysely<Schema>): Promise<void> {
  await db.deleteFrom('ephemeral').where('expires_at', '<', sql<Date>`now()`).execute();
}
