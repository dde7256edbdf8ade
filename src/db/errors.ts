import { isOutage } from '../outage.ts';

/** PostgreSQL's unique_violation (23505), from pg or PGlite: the row exists already. */
export const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

/** The name of the unique index or constraint a unique violation broke. */
export const violatedConstraint = (error: unknown) => (error as { constraint?: string } | null)?.constraint;

/**
 * PostgreSQL refusing a value that came from a request: a NUL (22021) or what jsonb cannot hold
 * (22P05, 22P02), a number or date out of range (22003, 22007, 22008). Bad input, never a fault:
 * the request gets 400 and nothing was written (the statement failed).
 */
const BAD_INPUT = new Set(['22021', '22P05', '22P02', '22003', '22007', '22008']);

export const isBadInput = (error: unknown) => BAD_INPUT.has((error as { code?: string } | null)?.code ?? '');

/** Turned away at the door: no such database (3D000), a wrong password or role (28P01, 28000). */
const REFUSED = new Set(['3D000', '28P01', '28000']);
/** Outages that strike a statement already running (its timeout, a read-only standby): it did connect. */
const MID_STATEMENT = new Set(['57014', '25006']);

/**
 * The database could not be reached or would not let us in: nothing was wrong with the SQL, so
 * the fix is in DATABASE_URL or the server, not in a migration.
 */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return REFUSED.has(code) || (isOutage(error) && !MID_STATEMENT.has(code));
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * A connection failure as the operator reads it, the same from the server and the CLI. Host and
 * port only: DATABASE_URL may hold a password, which must not reach a terminal or a log.
 *
 * @example
 *   describeUnreachable('postgres://u:pw@127.0.0.1:1/x', econnrefused);
 *   // 'cannot reach the database at 127.0.0.1:1: connection refused; check DATABASE_URL'
 */
export function describeUnreachable(databaseUrl: string, error: unknown): string {
  const url = new URL(databaseUrl);
  const { code, message } = error as NodeJS.ErrnoException;
  const reason = NETWORK[code ?? ''] ?? message;
  return `cannot reach the database at ${url.hostname || 'localhost'}:${url.port || 5432}: ${reason}; check DATABASE_URL`;
}

/** The database turned us away at the first query of start-up: its message is the line to show. */
export class DatabaseUnreachableError extends Error {}

/**
 * For start-up's first query: a connection failure there is the database's (Redis is not asked
 * yet), so it becomes one line naming DATABASE_URL; anything else is returned as it was.
 */
export function asUnreachable(error: unknown, databaseUrl: string | undefined): unknown {
  if (!databaseUrl || error instanceof DatabaseUnreachableError || !isConnectionFailure(error)) return error;
  return new DatabaseUnreachableError(describeUnreachable(databaseUrl, error), { cause: error });
}
