/** The audit trail's filters as the console reads them from a query string. */
import type { AuditFilter } from '../audit/repo.ts';
import { AppError } from '../errors.ts';

const one = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** A real calendar day from 1970 to 2999 (YYYY-MM-DD, China time); 400 naming `field` otherwise. */
function dateOf(value: unknown, field: string): Date | undefined {
  const text = one(value);
  if (!text) return undefined;
  const date = /^(19[7-9]\d|2\d{3})-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00+08:00`) : undefined;
  const real = date && new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 10) === text;
  if (!real) throw new AppError('admin.audit.date', 400, { field });
  return date;
}

/** person, client, action (prefix), from and to (YYYY-MM-DD, China time; `to` inclusive). */
export function auditFilterOf(query: Record<string, unknown>): AuditFilter {
  const to = dateOf(query.to, 'to');
  return {
    subject: one(query.person),
    clientId: one(query.client),
    action: one(query.action),
    from: dateOf(query.from, 'from'),
    to: to && new Date(to.getTime() + 86_400_000),
  };
}
