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
