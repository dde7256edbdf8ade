/** PostgreSQL's unique_violation (23505), from pg or PGlite: the row exists already. */
export const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

/** The name of the unique index or constraint a unique violation broke. */
export const violatedConstraint = (error: unknown) => (error as { constraint?: string } | null)?.constraint;
