/**
 * A PostgreSQL that hangs (its processes stopped, its network dropping packets) refuses nothing
 * and answers nothing: every query in flight would wait out its timeout, 11 s by default. So
 * while queries are in flight and none has finished for a second, or one has had nothing back
 * for a second, a fresh connection asks the server about them. If that goes unanswered for the
 * connection timeout, and no query of the pool answered meanwhile, PostgreSQL is hung: the
 * connections held since before are cut, so their requests get a 503 at once, and `onHung`
 * marks the database down, so that the fail-fast rule answers the rest until it answers again.
 *
 * A connection can also be lost alone, the server fine: a NAT or a firewall that dropped its
 * mapping without a word leaves its query waiting. The fresh connection's answer tells such a
 * query apart from a slow one (a long export, a lock), which is left alone: the server process
 * behind it has sat idle for over a second while nothing came back, so the query never arrived or
 * its answer never will. Those connections are cut and, since what silenced one may have
 * silenced the rest, so are the pool's idle ones, and every other waiting query is asked about at
 * once; new connections replace them, and `onSilenced` is told. A process the server does not
 * list proves nothing: behind a pooler (PgBouncer) the ids are the pooler's, and such a query
 * waits out its timeout as before. (A query text of megabytes with no parameters, on a link
 * slower than its buffers drain in a second, is taken for lost: the server sits idle while it
 * reads one. Yitong sends none.)
 *
 * @example
 *   const stop = watchForStalls(pool, url, 2000, { onHung: down, onSilenced: down });
 */
import type { Socket } from 'node:net';
import pg from 'pg';

const STALL_MS = 1000;
const EVERY_MS = 250;
/** A query the server did not find idle is asked about again after this long. */
const ASK_AGAIN_MS = 5000;

/** The query a client sent and waits on (pg's own field; its public getter is deprecated). */
const waitedOn = (client: pg.PoolClient): object | null =>
  (client as unknown as { _activeQuery: object | null })._activeQuery;
const pid = (client: pg.PoolClient) => (client as unknown as { processID: number }).processID;
const socketOf = (client: pg.ClientBase) =>
  (client as unknown as { connection: { stream: Socket } }).connection.stream;

/** A waiting query: since when nothing moved on its connection, and when the server was asked. */
interface Silence {
  since: number;
  bytes: number;
  asked: number;
}

export function watchForStalls(
  pool: pg.Pool,
  url: string,
  pingMs: number,
  { onHung, onSilenced }: { onHung(error: Error): void; onSilenced(error: Error): void },
): () => void {
  /** Each connection checked out, with when. */
  const inFlight = new Map<pg.PoolClient, number>();
  const clients = new Set<pg.PoolClient>();
  const silences = new WeakMap<object, Silence>();
  let lastDone = performance.now();
  let lastAsked = -Infinity;
  let pinging = false;
  pool.on('connect', (client) => clients.add(client));
  pool.on('remove', (client) => clients.delete(client));
  pool.on('acquire', (client) => inFlight.set(client, performance.now()));
  pool.on('release', (_error, client) => {
    inFlight.delete(client as pg.PoolClient);
    lastDone = performance.now();
  });
  /**
   * The queries waiting with nothing read on their connection, and nothing left to send, for over
   * a second (a long answer, or a long query text on a slow link, keeps its bytes moving); with
   * `all`, every query waiting now.
   */
  const waitingQueries = (now: number, all: boolean) => {
    const waiting = new Map<pg.PoolClient, object>();
    for (const client of inFlight.keys()) {
      const query = waitedOn(client);
      if (!query) continue;
      const socket = socketOf(client);
      const before = silences.get(query);
      const moved = !before || before.bytes !== socket.bytesRead || socket.writableLength > 0;
      const silence = moved
        ? { since: now, bytes: socket.bytesRead, asked: before?.asked ?? -Infinity }
        : before;
      silences.set(query, silence);
      if (all || (now - silence.since > STALL_MS && now - silence.asked > ASK_AGAIN_MS))
        waiting.set(client, query);
    }
    return waiting;
  };
  const check = async (wave = false) => {
    if (pinging || inFlight.size === 0) return;
    const started = performance.now();
    const waiting = waitingQueries(started, wave);
    const stalled = started - lastDone >= STALL_MS;
    // At most one fresh connection a second, unless a wave or a stall (a hang) asks for it.
    if (!stalled && (waiting.size === 0 || (!wave && started - lastAsked < STALL_MS))) return;
    pinging = true;
    lastAsked = started;
    let lost: pg.PoolClient[] = [];
    try {
      const idle = await idleProcesses(url, pingMs, [...waiting.keys()].map(pid));
      if (idle === 'hung') {
        // A query of the pool answered while the new connection waited: the server is alive, and
        // only slow to take new connections (a busy pooler, a slow name lookup).
        if (lastDone > started) return;
        onHung(new Error(`PostgreSQL answered nothing for ${STALL_MS + pingMs} ms`));
        // Ending the socket fails the query in flight ("Connection terminated"), an outage (503);
        // the pool then drops the client when its request releases it. Only connections held
        // since before the ping: one handed out since is another request's.
        for (const [client, since] of inFlight) if (since < started) cut(client);
        return;
      }
      if (idle === 'unknown') return;
      // Still waiting on the same query (not answered meanwhile) while its process sat idle: lost.
      lost = [...waiting]
        .filter(([client, query]) => waitedOn(client) === query && idle.has(pid(client)))
        .map(([client]) => client);
      // Not idle (running, or idle under a second): asked again later. A wave's were not due yet.
      if (!wave)
        for (const [, query] of waiting) {
          const silence = silences.get(query);
          if (silence) silence.asked = started;
        }
      if (lost.length === 0) return;
      for (const client of clients) if (!inFlight.has(client)) cut(client);
      for (const client of lost) cut(client);
      onSilenced(
        new Error(`${lost.length} connection(s) to PostgreSQL went silent, the server fine: replaced`),
      );
    } finally {
      lastDone = performance.now();
      pinging = false;
    }
    // What silenced those may have silenced others waiting now: asked about at once.
    if (lost.length > 0) void check(true);
  };
  const timer = setInterval(check, EVERY_MS).unref();
  return () => clearInterval(timer);
}

/**
 * Which of `pids` are server processes idle for over a second, asked on a new connection; 'hung'
 * when it goes unanswered for `ms`; 'unknown' when it fails otherwise (an answer, so life).
 */
async function idleProcesses(
  url: string,
  ms: number,
  pids: number[],
): Promise<Set<number> | 'hung' | 'unknown'> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms });
  client.on('error', () => {});
  let idle: Set<number>;
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND datname = current_database()
         AND state LIKE 'idle%' AND state_change < clock_timestamp() - make_interval(secs => $2)`,
      [pids, STALL_MS / 1000],
    );
    idle = new Set(rows.map((row) => row.pid));
  } catch (error) {
    cut(client); // a hung server would never answer a polite goodbye
    return /timeout/i.test((error as Error).message) ? 'hung' : 'unknown';
  }
  // Not waited for, and cut if unanswered: a server that froze just after answering keeps it.
  const unanswered = setTimeout(() => cut(client), ms).unref();
  client.end().then(
    () => clearTimeout(unanswered),
    () => {},
  );
  return idle;
}

const cut = (client: pg.ClientBase) => socketOf(client).destroy();
