/**
 * The ephemeral store's contract (WebAuthn challenges, half-done sign-ins) on Redis, PostgreSQL
 * and PGlite: a value is taken once, expires, and is shared by every node on the same storage.
 */
import test from 'ava';
import {
  createRedisEphemeralStore,
  createSqlEphemeralStore,
  type EphemeralStore,
  sweepExpiredEphemeral,
} from '../../src/auth/ephemeral.ts';
import { clearRedis, connectRedis, freshDatabase, redisPrefix } from '../helpers/databases.ts';

type Open = () => Promise<{ store: EphemeralStore; second: EphemeralStore; close(): Promise<void> }>;

const backends: Record<string, Open> = {
  async redis() {
    const [redis, other] = [await connectRedis(), await connectRedis()];
    const prefix = redisPrefix();
    return {
      store: createRedisEphemeralStore(redis as never, prefix),
      second: createRedisEphemeralStore(other as never, prefix),
      async close() {
        await clearRedis(redis, prefix);
        await Promise.all([redis.close(), other.close()]);
      },
    };
  },
  async postgres() {
    const fresh = await freshDatabase('postgres');
    const store = createSqlEphemeralStore(fresh.database.db);
    return {
      store,
      second: store,
      async close() {
        await sweepExpiredEphemeral(fresh.database.db);
        await fresh.dispose();
      },
    };
  },
  async pglite() {
    const fresh = await freshDatabase('pglite');
    const store = createSqlEphemeralStore(fresh.database.db);
    return { store, second: store, close: () => fresh.dispose() };
  },
};

for (const [name, open] of Object.entries(backends)) {
  test(`${name}: a value is taken once; peek does not consume; another node sees it`, async (t) => {
    const { store, second, close } = await open();
    t.teardown(close);
    await store.put('challenge:a', { challenge: 'xyz' }, 60);
    t.deepEqual(await second.peek('challenge:a'), { challenge: 'xyz' });
    t.deepEqual(await second.take('challenge:a'), { challenge: 'xyz' });
    t.is(await store.take('challenge:a'), undefined, 'the second take finds nothing');
    t.is(await store.peek('nothing'), undefined);
  });

  test(`${name}: concurrent takes: exactly one gets the value`, async (t) => {
    const { store, second, close } = await open();
    t.teardown(close);
    await store.put('race', 1, 60);
    const results = await Promise.all([store.take('race'), second.take('race'), store.take('race')]);
    t.deepEqual(
      results.filter((value) => value !== undefined),
      [1],
    );
  });

  test(`${name}: a value expires; putting again replaces it`, async (t) => {
    const { store, close } = await open();
    t.teardown(close);
    await store.put('again', 'old', 60);
    await store.put('again', 'new', 60);
    t.is(await store.peek('again'), 'new');
    await store.put('short', 'brief', 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    t.is(await store.peek('short'), undefined);
    t.is(await store.take('short'), undefined);
  });
}
