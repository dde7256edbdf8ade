/**
 * A PostgreSQL that hangs (its processes stopped, its network dropping packets) refuses nothing
 * and answers nothing: every query in flight would wait out its timeout, 11 s by default. So
 * while queries are in flight and none has finished for a second, or one has waited over a
 * second, a fresh connection asks the server about them. If that goes unanswered for the
 * connection timeout, and no query of the pool answered meanwhile, PostgreSQL is hung: the
 * connections held since before are cut, so their requests get a 503 at once, and `onHung`
 * marks the database down, so that the fail-fast rule answers the rest until it answers again.
 *
 * A connection can also be lost alone, the server fine: a NAT or a firewall that dropped its
 * mapping without a word leaves its query waiting. The fresh connection's answer tells such a
 * query apart from a slow one (a long export, a lock), which is left alone: the server process
 * behind it has sat idle for over a second, so the query never arrived or its answer never came
 * back. Those connections are cut and, since what silenced one may have silenced the rest, so are
 * the pool's idle ones; new connections replace them, and `onSilenced` is told. Behind a pooler
 * (PgBouncer) the process ids are not the server's, nothing is found, and such a query waits out
 * its timeout as before.
 *
 * @example
 *   const stop = watchForStalls(pool, url, 2000, { onHung: down, onSilenced: down });
 */
import pg from 'pg';

const STALL_MS = 1000;
const EVERY_MS = 250;

/** The query a client sent and waits on (pg's own field; its public getter is deprecated). */
const waitedOn = (client: pg.PoolClient): object | null =>
  (client as unknown as { _activeQuery: object | null })._activeQuery;
const pid = (client: pg.PoolClient) => (client as unknown as { processID: number }).processID;

export function watchForStalls(
  pool: pg.Pool,
  url: string,
  pingMs: number,
  { onHung, onSilenced }: { onHung(error: Error): void; onSilenced(error: Error): void },
): () => void {
  /** Each connection checked out, with when. */
  const inFlight = new Map<pg.PoolClient, number>();
  const clients = new Set<pg.PoolClient>();
  /** Queries the server was found running: slow, not lost, and not asked about again. */
  const running = new WeakSet<object>();
  let lastDone = performance.now();
  let pinging = false;
  pool.on('connect', (client) => clients.add(client));
  pool.on('remove', (client) => clients.delete(client));
  pool.on('acquire', (client) => inFlight.set(client, performance.now()));
  pool.on('release', (_error, client) => {
    inFlight.delete(client as pg.PoolClient);
    lastDone = performance.now();
  });
  const check = async () => {
    if (pinging || inFlight.size === 0) return;
    const started = performance.now();
    const waiting = new Map<pg.PoolClient, object>();
    for (const [client, since] of inFlight) {
      const query = waitedOn(client);
      if (query && started - since > STALL_MS && !running.has(query)) waiting.set(client, query);
    }
    if (waiting.size === 0 && started - lastDone < STALL_MS) return;
    pinging = true;
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
      // Still waiting on the same query (not answered meanwhile) while its process sat idle: lost.
      const lost = [...waiting].filter(
        ([client, query]) => waitedOn(client) === query && idle.has(pid(client)),
      );
      for (const [, query] of waiting) running.add(query);
      if (lost.length === 0) return;
      for (const client of clients) if (!inFlight.has(client)) cut(client);
      for (const [client] of lost) cut(client);
      onSilenced(
        new Error(`${lost.length} connection(s) to PostgreSQL went silent, the server fine: replaced`),
      );
    } finally {
      lastDone = performance.now();
      pinging = false;
    }
  };
  const timer = setInterval(check, EVERY_MS).unref();
  return () => clearInterval(timer);
}

/**
 * Which of `pids` are server processes idle for over a second, asked on a new connection;
 * 'hung' when it goes unanswered for `ms`. Any other answer, even an error, is life.
 */
async function idleProcesses(url: string, ms: number, pids: number[]): Promise<Set<number> | 'hung'> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND datname = current_database()
         AND state LIKE 'idle%' AND state_change < clock_timestamp() - make_interval(secs => $2)`,
      [pids, STALL_MS / 1000],
    );
    await client.end();
    return new Set(rows.map((row) => row.pid));
  } catch (error) {
    cut(client); // a hung server would never answer a polite goodbye
    return /timeout/i.test((error as Error).message) ? 'hung' : new Set();
  }
}

const cut = (client: pg.ClientBase) => (client as pg.Client).connection.stream.destroy();
