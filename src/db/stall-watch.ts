/**
 * A PostgreSQL that hangs (its processes stopped, its network dropping packets) refuses nothing
 * and answers nothing: every query in flight would wait out its timeout, 11 s by default. So
 * while queries are in flight and none has finished for a second, a fresh connection asks
 * `SELECT 1`. If that goes unanswered for the connection timeout, and no query of the pool
 * answered meanwhile, PostgreSQL is hung: the connections held since before are cut, so their
 * requests get a 503 at once, and `onHung` marks the database down, so that the fail-fast rule
 * answers the rest until it answers again. A query that is only slow (a long export) is left
 * alone: the fresh connection's answer says the server is alive.
 *
 * @example
 *   const stop = watchForStalls(pool, url, 2000, (error) => outages.down('database', error));
 */
import pg from 'pg';

const STALL_MS = 1000;
const EVERY_MS = 250;

export function watchForStalls(
  pool: pg.Pool,
  url: string,
  pingMs: number,
  onHung: (error: Error) => void,
): () => void {
  /** Each connection checked out, with when. */
  const inFlight = new Map<pg.PoolClient, number>();
  let lastDone = performance.now();
  let pinging = false;
  pool.on('acquire', (client) => inFlight.set(client, performance.now()));
  pool.on('release', (_error, client) => {
    inFlight.delete(client as pg.PoolClient);
    lastDone = performance.now();
  });
  const check = async () => {
    if (pinging || inFlight.size === 0 || performance.now() - lastDone < STALL_MS) return;
    pinging = true;
    const started = performance.now();
    try {
      // A query of the pool answered while the new connection waited: the server is alive, and
      // only slow to take new connections (a busy pooler, a slow name lookup).
      if (!(await hangs(url, pingMs)) || lastDone > started) return;
      onHung(new Error(`PostgreSQL answered nothing for ${STALL_MS + pingMs} ms`));
      // Ending the socket fails the query in flight ("Connection terminated"), an outage (503);
      // the pool then drops the client when its request releases it. Only connections held
      // since before the ping: one handed out since is another request's.
      for (const [client, since] of inFlight) if (since < started) cut(client);
    } finally {
      lastDone = performance.now();
      pinging = false;
    }
  };
  const timer = setInterval(check, EVERY_MS).unref();
  return () => clearInterval(timer);
}

/** Whether a new connection's `SELECT 1` goes unanswered for `ms`; any answer, even an error, is life. */
async function hangs(url: string, ms: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: ms, query_timeout: ms });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
    return false;
  } catch (error) {
    cut(client); // a hung server would never answer a polite goodbye
    return /timeout/i.test((error as Error).message);
  }
}

const cut = (client: pg.ClientBase) => (client as pg.Client).connection.stream.destroy();
