/**
 * Real storage for tests: a fresh PostgreSQL database or a fresh in-memory PGlite per call,
 * migrated, and a Redis key prefix of its own. Tests read DATABASE_URL / REDIS_URL, defaulting to
 * the local services.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import pg from 'pg';
import { createClient } from 'redis';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';

export const POSTGRES_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export type Backend = 'postgres' | 'pglite';

export interface FreshDatabase {
  database: Database;
  /** The PostgreSQL URL of this database (undefined for PGlite). */
  url: string | undefined;
  /** Closes the connection and drops the database. */
  dispose(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `yitong_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(backend: Backend): Promise<FreshDatabase> {
  if (backend === 'pglite') {
    const database = await openDatabase({ pgliteDir: 'memory://' });
    await migrate(database);
    return { database, url: undefined, dispose: () => database.close() };
  }
  const { url, drop } = await createPostgresDatabase();
  // A loaded CI machine can take longer than production's 5 s to open a connection; that limit is
  // tested where it matters (test/ops), not by every test's own storage.
  const database = await openDatabase({ databaseUrl: url, poolSize: 4, connectTimeoutMs: 30_000 });
  await migrate(database);
  return {
    database,
    url,
    async dispose() {
      await database.close();
      await drop();
    },
  };
}

/** A unique key prefix, so parallel test files share one Redis without seeing each other. */
export function redisPrefix(): string {
  return `test:${randomBytes(6).toString('hex')}:`;
}

export async function connectRedis() {
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  return redis;
}

/** Removes every key under `prefix`. */
export async function clearRedis(
  redis: Awaited<ReturnType<typeof connectRedis>>,
  prefix: string,
): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length > 0) await redis.del(keys);
  }
}

/**
 * A TCP proxy to a server (PostgreSQL, Redis) whose open connections can be silenced, kept open,
 * as a NAT drops an idle mapping without a word; connections made afterwards go through.
 */
export async function silencingProxy(url: string): Promise<{ url: string; silence(): void; close(): void }> {
  const target = new URL(url);
  const open: Socket[] = [];
  const silenced: Socket[] = [];
  const proxy = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const socket of [inbound, outbound]) socket.on('error', () => {});
    inbound.pipe(outbound).pipe(inbound);
    open.push(inbound, outbound);
  }).listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const via = new URL(url);
  via.port = String((proxy.address() as AddressInfo).port);
  return {
    url: via.href,
    silence() {
      for (const socket of open) {
        socket.unpipe();
        socket.pause();
      }
      silenced.push(...open.splice(0));
    },
    close() {
      for (const socket of [...open, ...silenced]) socket.destroy();
      proxy.close();
    },
  };
}
