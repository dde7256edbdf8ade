/**
 * One storage port over two engines: a PostgreSQL server through `pg`, or the embedded
 * PostgreSQL (PGlite) when no server is configured. Same SQL and migrations on both.
 *
 * @example
 *   const database = await openDatabase({ databaseUrl: 'postgres://localhost/yitong' });
 *   await database.db.selectFrom('people').selectAll().execute();
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PGliteDialect,
  PostgresDialect,
} from 'kysely';
import pg from 'pg';
import { OutageError, type Outages } from '../outage.ts';
import { CHANNEL, listenPostgres, type OnChange, parseChange } from './changes.ts';
import type { Schema } from './schema.ts';
import { watchForStalls } from './stall-watch.ts';

export interface Database {
  db: Kysely<Schema>;
  kind: 'postgres' | 'pglite';
  /**
   * Applies one migration script (several statements) and records it, in one transaction,
   * serialised across processes; false when it was already applied.
   */
  applyMigration(name: string, script: string): Promise<boolean>;
  /**
   * Hears the changes other nodes (or this one) NOTIFY (db/changes.ts); stops when the database
   * closes. `onResync` once listening (again): anything may have changed; `onLost` when changes
   * may go unheard for a while.
   */
  listen(onChange: OnChange, onResync: () => void, onLost: () => void): Promise<void>;
  /** The connection pool as it is now (PostgreSQL only): for the metrics. */
  pool?: { total(): number; idle(): number; waiting(): number };
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; when unset, PGlite at `pgliteDir` (`memory://` keeps it in memory). */
  databaseUrl?: string;
  pgliteDir?: string;
  poolSize?: number;
  /** How long to wait for a connection (a new one, or a free one of the pool). */
  connectTimeoutMs?: number;
  /** The longest a statement may run (PostgreSQL's statement_timeout, and a client-side bound). */
  statementTimeoutMs?: number;
  /** Told when connections fail and when they work again. */
  outages?: Pick<Outages, 'down' | 'up' | 'isDown'>;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options);
  return openPglite(options.pgliteDir ?? 'memory://');
}

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
const ALREADY_APPLIED = 'SELECT 1 FROM schema_migrations WHERE name = $1';
const RECORD_APPLIED = 'INSERT INTO schema_migrations (name) VALUES ($1)';
const MIGRATION_TIMEOUT_MS = 3_600_000;

function openPostgres(url: string, options: DatabaseOptions): Database {
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  const connectTimeout = options.connectTimeoutMs ?? 2000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: connectTimeout,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 1000,
    idle_in_transaction_session_timeout: 4 * statementTimeout,
    keepAlive: true,
  });
  const fast = failFast(pool, options.outages);
  // Asked at once whether it is back: not only when the next request comes.
  const lost = (error: Error) => {
    options.outages?.down('database', error);
    fast.probe();
  };
  const listeners: Array<ReturnType<typeof listenPostgres>> = [];
  // A connection lost while idle (the pool's event) or while checked out — inside a transaction,
  // where pg-pool no longer listens — must never crash the process: the query in flight fails
  // (a 503), the pool drops the client, and a later request connects anew.
  pool.on('error', lost);
  pool.on('connect', (client) => {
    client.on('error', lost);
    options.outages?.up('database');
  });
  const stopWatching = watchForStalls(pool, url, connectTimeout, {
    onHung: lost,
    // What silenced a connection of the pool has likely silenced the listening one too.
    onSilenced(error) {
      lost(error);
      for (const listener of listeners) listener.renew();
    },
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: fast }) });
  return {
    db,
    kind: 'postgres',
    async applyMigration(name, script) {
      const client = await pool.connect();
      // Without the requests' timeouts: an index over ten million people takes minutes, and
      // another node's migration holds the lock as long as it runs.
      const run = (text: string, values?: unknown[]) =>
        // pg reads query_timeout per query too; its types name only the pool's.
        client.query({ text, values, query_timeout: MIGRATION_TIMEOUT_MS } as pg.QueryConfig);
      try {
        // One round trip: no moment inside the transaction with the requests' idle timeout still on.
        await run(
          'BEGIN; SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0',
        );
        await run("SELECT pg_advisory_xact_lock(hashtext('yitong:migrate'))");
        await run(LEDGER);
        const applied = (await run(ALREADY_APPLIED, [name])).rowCount === 0;
        if (applied) {
          await run(script); // no parameters: the simple protocol runs every statement
          await run(RECORD_APPLIED, [name]);
        }
        await run('COMMIT');
        return applied;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(onChange, onResync, onLost) {
      listeners.push(listenPostgres(url, onChange, onResync, onLost));
    },
    pool: { total: () => pool.totalCount, idle: () => pool.idleCount, waiting: () => pool.waitingCount },
    async close() {
      stopWatching();
      await Promise.all(listeners.map((listener) => listener.stop()));
      await db.destroy();
    },
  };
}

/** While PostgreSQL is down, how often it is asked whether it is back. */
const PROBE_EVERY_MS = 250;

/**
 * While PostgreSQL is known to be down, every request fails at once (a 503), and in the
 * background one connection at a time asks it `SELECT 1`, every 250 ms from when `probe` is first
 * called (by a lost connection, or the next request), until it answers: then requests go to it
 * again. No request waits on that question: when requests took turns to ask, a
 * database that hangs (each try waits out the connection timeout) held every request arriving
 * during a try for up to 2 s.
 */
function failFast(pool: pg.Pool, outages: Pick<Outages, 'isDown' | 'up'> | undefined) {
  let probing = false;
  let ended = false;
  const probe = async () => {
    if (probing || ended || !outages?.isDown('database')) return;
    probing = true;
    try {
      const client = await pool.connect();
      // A connection the pool already had says nothing of the database (only a new one says
      // 'connect'): one answered query does.
      await client.query('SELECT 1').then(
        () => {
          client.release();
          outages?.up('database');
        },
        (error: Error) => client.release(error),
      );
    } catch {
      // Still down: asked again below.
    } finally {
      probing = false;
    }
    if (outages?.isDown('database')) setTimeout(probe, PROBE_EVERY_MS).unref();
  };
  return {
    probe: () => void probe(),
    async connect() {
      if (outages?.isDown('database')) {
        void probe();
        throw new OutageError('database');
      }
      return pool.connect();
    },
    end: () => {
      ended = true;
      return pool.end();
    },
    options: pool.options,
  };
}

async function openPglite(dir: string): Promise<Database> {
  const unlock = dir.startsWith('memory://') ? () => {} : lockDataDir(dir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir);
  } catch (error) {
    unlock();
    throw error;
  }
  const db = new Kysely<Schema>({ dialect: serialised(new PGliteDialect({ pglite })) });
  return {
    db,
    kind: 'pglite',
    applyMigration: (name, script) =>
      // Holding the connection keeps every Kysely query out while the raw transaction runs.
      db.connection().execute(() =>
        pglite.transaction(async (tx) => {
          await tx.exec(LEDGER);
          if ((await tx.query(ALREADY_APPLIED, [name])).rows.length > 0) return false;
          await tx.exec(script);
          await tx.query(RECORD_APPLIED, [name]);
          return true;
        }),
      ),
    async listen(onChange, onResync) {
      // In the same process: nothing is ever unheard.
      await pglite.listen(CHANNEL, (payload) => {
        const change = parseChange(payload);
        if (change) onChange(change);
      });
      onResync();
    },
    async close() {
      await db.destroy();
      // Kysely opens its driver lazily: with no query made, it has not taken PGlite to close.
      if (!pglite.closed) await pglite.close();
      unlock();
    },
  };
}

/**
 * PGlite is a single connection. Kysely's PGlite driver hands it to every caller at once, so a
 * query from one request could run inside another request's open transaction. Lending the
 * connection to one caller at a time keeps transactions isolated.
 */
function serialised(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new SerialDriver(dialect.createDriver()),
  };
}

class SerialDriver implements Driver {
  #inner: Driver;
  #queue = Promise.resolve();
  #release = () => {};

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init = () => this.#inner.init();
  destroy = () => this.#inner.destroy();
  beginTransaction: Driver['beginTransaction'] = (c, settings) => this.#inner.beginTransaction(c, settings);
  commitTransaction: Driver['commitTransaction'] = (c) => this.#inner.commitTransaction(c);
  rollbackTransaction: Driver['rollbackTransaction'] = (c) => this.#inner.rollbackTransaction(c);

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let release = () => {};
    this.#queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.#release = release;
    return this.#inner.acquireConnection();
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.#inner.releaseConnection(connection);
    this.#release();
  }
}

export class DataDirInUseError extends Error {
  /** Who holds the directory (`process 4242 on web-1`), when known: for a message saying what to stop. */
  readonly holder: string | undefined;

  constructor(message: string, holder?: string) {
    super(message);
    this.holder = holder;
  }
}

/**
 * PGlite has no server to arbitrate between processes: two opening one directory would
 * corrupt it. A lock file with the owner's pid turns that into a clear error.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = `${dir}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  // Written whole to a temporary file, then linked into place: the link either wins atomically
  // or fails, so no one ever reads a half-written lock.
  const claim = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(claim, `${process.pid}\n${hostname()}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(claim, lockFile);
        return () => rmSync(lockFile, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const [pid = '', host = ''] = readFileSync(lockFile, 'utf8').split('\n');
        // Another host (a shared volume) or a live process here: in use. A dead process's lock is stale.
        if (host !== hostname() || isAlive(Number(pid))) {
          throw new DataDirInUseError(
            `the embedded database ${dir} is in use by process ${pid} on ${host}: stop it (a server, the demo or a command), set DATA_DIR to another folder, or set DATABASE_URL to share a PostgreSQL server`,
            `process ${pid} on ${host}`,
          );
        }
        rmSync(lockFile, { force: true });
      }
    }
    throw new DataDirInUseError(`could not lock the embedded database ${dir}`);
  } finally {
    rmSync(claim, { force: true });
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
