/**
 * Changes every node must hear of at once — a site's registration, a signing key — sent with
 * PostgreSQL's NOTIFY in the transaction of the change (heard only if it commits) and heard on a
 * LISTEN connection of its own that reconnects by itself. After a reconnect the node may have
 * missed some: subscribers are told to resync (drop every cache). On the embedded database the
 * same NOTIFY reaches the one process through PGlite.
 *
 * @example
 *   await notifyChange(trx, { kind: 'upstreams' });
 *   database.listen((change) => change.kind === 'client' && cache.delete(change.id), () => cache.clear());
 */
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Schema } from './schema.ts';

export const CHANNEL = 'yitong_changes';

export type Change =
  | { kind: 'client'; id: string; signing?: boolean } // told by a trigger (0022); signing: PS256 needed or not (0023)
  | { kind: 'person'; id: string } // told by a trigger (migration 0018)
  | { kind: 'keys' }
  | { kind: 'upstreams' };

export type OnChange = (change: Change) => void;

/** Tells every node, when the transaction commits. */
export async function notifyChange(db: Kysely<Schema>, change: Change): Promise<void> {
  await sql`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(change)})`.execute(db);
}

export function parseChange(payload: string | undefined): Change | undefined {
  try {
    const change = JSON.parse(payload ?? '') as Change;
    return change.kind === 'keys' ||
      change.kind === 'upstreams' ||
      ((change.kind === 'client' || change.kind === 'person') && typeof change.id === 'string')
      ? change
      : undefined;
  } catch {
    return undefined;
  }
}

/** How often the listening connection is asked whether it still answers (half of it to answer). */
export const HEARTBEAT_MS = 10_000;

/**
 * LISTENs on a connection of its own; returns how to stop, and how to `renew` the connection when
 * it is suspect (a connection of the pool went silent). `onResync` after every (re)connection,
 * `onLost` when the connection drops (changes may go unheard until `onResync`). A connection that
 * a NAT or firewall dropped without a word never ends by itself (TCP keepalive gives up after
 * some two hours), and a node would go on signing with a key rotated away: so it is asked every
 * `heartbeatMs` and dropped when it does not answer within half of that.
 */
export function listenPostgres(
  url: string,
  onChange: OnChange,
  onResync: () => void,
  onLost: () => void,
  heartbeatMs = HEARTBEAT_MS,
): { stop(): Promise<void>; renew(): void } {
  let client: pg.Client | undefined;
  let beat: NodeJS.Timeout | undefined;
  let stopped = false;
  let delay = 250;
  let timer: NodeJS.Timeout | undefined;
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 5000);
  };
  async function connect() {
    const next = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: 5000 });
    next.on('error', () => {}); // a dropped connection ends it: 'end' reconnects
    next.on('end', () => {
      if (client === next) {
        client = undefined;
        clearInterval(beat);
        onLost();
      }
      retry();
    });
    next.on('notification', (message) => {
      const change = parseChange(message.payload);
      if (change) onChange(change);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      if (stopped) return void next.end().catch(() => {});
      client = next;
      delay = 250;
      beat = setInterval(() => heartbeat(next), heartbeatMs).unref();
      onResync();
    } catch {
      await next.end().catch(() => {});
      retry();
    }
  }
  /** Its socket destroyed, a client ends: 'end' above reconnects, unless stopped. */
  const drop = (listening: pg.Client) =>
    (listening as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  function heartbeat(listening: pg.Client) {
    const late = setTimeout(() => drop(listening), heartbeatMs / 2).unref();
    listening.query('SELECT 1').then(
      () => clearTimeout(late),
      () => {
        clearTimeout(late);
        drop(listening);
      },
    );
  }
  void connect();
  return {
    async stop() {
      stopped = true;
      clearInterval(beat);
      clearTimeout(timer);
      // A connection silenced and not found out yet would never answer the goodbye.
      const ending = client;
      const cut = setTimeout(() => ending && drop(ending), 1000).unref();
      await ending?.end().catch(() => {});
      clearTimeout(cut);
    },
    renew: () => client && drop(client),
  };
}
