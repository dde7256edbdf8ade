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
