/** The audit trail as the console reads it: filters from a query string, rows in words. */
import type { AuditFilter } from '../audit/repo.ts';
import { AppError } from '../errors.ts';
import { beijingTime } from '../web/render.ts';
import type { AdminRepo } from './repo.ts';

const one = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);

/** A real calendar day from 1970 to 2999 (YYYY-MM-DD, China time); 400 naming `field` otherwise. */
function dateOf(value: unknown, field: string): Date | undefined {
  const text = one(value);
  if (!text) return undefined;
  const date = /^(19[7-9]\d|2\d{3})-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00+08:00`) : undefined;
  // Month 13 or day 45 is no date at all; 30 February rolls over into March: neither is the text.
  const real =
    date &&
    !Number.isNaN(date.getTime()) &&
    new Date(date.getTime() + 8 * 3_600_000).toISOString().slice(0, 10) === text;
  if (!real) throw new AppError('admin.audit.date', 400, { field });
  return date;
}

/**
 * person, client, action (prefix), from and to (YYYY-MM-DD, China time; `to` inclusive). A `from`
 * after `to` is a mistake, not a question whose answer is "nothing": 400 naming `from`.
 */
export function auditFilterOf(query: Record<string, unknown>): AuditFilter {
  const from = dateOf(query.from, 'from');
  const to = dateOf(query.to, 'to');
  if (from && to && from > to) throw new AppError('admin.audit.order', 400, { field: 'from' });
  return {
    subject: one(query.person),
    clientId: one(query.client),
    action: one(query.action),
    from,
    to: to && new Date(to.getTime() + 86_400_000),
  };
}

type AuditRow = Awaited<ReturnType<AdminRepo['searchAudit']>>[number];

/** A name as the console shows it: the first character, the rest hidden (张**). */
const maskName = (name: string) => [...name].map((char, i) => (i === 0 ? char : '*')).join('');

/**
 * An audit row as an administrator reads it: Beijing time, people by masked name and number,
 * sites by name, the action and the details' fields in words (the CSV keeps the raw row).
 */
export function auditRowView(
  row: AuditRow,
  words: { word(key: string): string | undefined; separator: string; site(clientId: string): string },
) {
  const person = (name: string | null, masked: string | null) =>
    name ? `${maskName(name)} · ${masked ?? ''}` : undefined;
  const value = (key: string, raw: unknown): string => {
    const items = Array.isArray(raw) ? raw.map(String) : [String(raw ?? '')];
    const shown = key === 'client_id' || key === 'clients' ? items.map(words.site) : items;
    return shown.join(words.separator);
  };
  return {
    seq: row.seq,
    at: beijingTime(row.at),
    actor: person(row.actorName, row.actorMasked) ?? words.word(`audit.actor.${row.actor}`) ?? row.actor,
    action: words.word(`audit.${row.action}`) ?? row.action,
    subject:
      person(row.subjectName, row.subjectMasked) ??
      (row.entityName
        ? `${row.entityName} · ${row.entityCode}`
        : row.action.startsWith('client.')
          ? words.site(row.subject ?? '')
          : row.subject),
    ip: row.ip,
    details: Object.entries(row.details as Record<string, unknown>).map(
      ([key, raw]) => `${words.word(`audit.field.${key}`) ?? key}: ${value(key, raw)}`,
    ),
  };
}

/** A sign-in's `amr` methods as message keys (`mfa` only says there were several). */
const METHOD_KEYS: Record<string, string> = {
  pwd: 'method.pwd',
  otp: 'method.otp',
  hwk: 'method.passkey',
  swk: 'method.passkey',
  fed: 'method.fed',
};

type SignInRow = Awaited<ReturnType<AdminRepo['signInsOf']>>[number];

/** A sign-in as the console's person page lists it: when (Beijing time), where to, how, from where. */
export function signInView(
  row: SignInRow,
  words: { word(key: string): string | undefined; separator: string; site(clientId: string): string },
) {
  const { client_id: clientId, amr } = row.details as { client_id?: unknown; amr?: unknown };
  const methods = (Array.isArray(amr) ? amr.map(String) : [])
    .filter((method) => method !== 'mfa')
    .map((method) => words.word(METHOD_KEYS[method] ?? '') ?? method);
  return {
    at: beijingTime(row.at),
    site: typeof clientId === 'string' && clientId ? words.site(clientId) : undefined,
    how: [...new Set(methods)].join(words.separator),
    ip: row.ip ?? undefined,
  };
}
