/**
 * The rules of legal persons that need no storage: when a membership lets its holder act at a
 * site, and how authorisation limits (sites, end date) are read from what an administrator typed.
 */
import { AppError } from '../errors.ts';
import type { EntityStatus, Membership } from './repo.ts';

/** A manifest's id, or one the engine gave a self-registered site (letters of either case, `_`, `-`). */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

/** Why a membership cannot be used at a site today, or undefined when it can. */
export type Block = 'status' | 'expired' | 'client';

const chinaDay = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' });
/** Today in China (YYYY-MM-DD): an authorisation "until 30 June" ends at midnight Beijing time, not 08:00 the day after. */
export const today = (now = new Date()) => chinaDay.format(now);

/** Whether a membership lets its holder act for the entity at this site today. */
export function blockOf(
  entity: { status: EntityStatus },
  membership: Membership,
  clientId: string,
  now = new Date(),
): Block | undefined {
  if (entity.status !== 'active') return 'status';
  if (membership.validUntil !== null && membership.validUntil < today(now)) return 'expired';
  if (membership.clientIds !== null && !membership.clientIds.includes(clientId)) return 'client';
  return undefined;
}

/** Comma-separated client ids, each a registered site; empty: every site. */
export async function parseClients(
  input: string,
  exists: (id: string) => Promise<boolean>,
): Promise<string[] | null> {
  const ids = [...new Set(input.split(/[\s,，]+/).filter(Boolean))];
  if (ids.length === 0) return null;
  for (const id of ids) {
    if (!CLIENT_ID.test(id) || !(await exists(id)))
      throw new AppError('legal_person.unknown_client', 400, {
        field: 'clients',
        params: { client: id.slice(0, 64) },
      });
  }
  return ids;
}

/** YYYY-MM-DD, a real date not before today; empty: no end. */
export function parseUntil(input: string): string | null {
  const value = input.trim();
  if (!value) return null;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value)
    throw new AppError('legal_person.until', 400, { field: 'until' });
  if (value < today()) throw new AppError('legal_person.until_past', 400, { field: 'until' });
  return value;
}

/**
 * An administrator grants, replaces or removes no more than they hold: sites among their own, an
 * end no later than their own (the representative and the CLI hold everything). Nobody changes
 * their own authorisation, so limits the representative set cannot be lifted by their holder.
 */
export function requireWithinOwn(
  granter: Membership,
  grant: { personId: string; clientIds: string[] | null; validUntil: string | null },
) {
  if (grant.personId === granter.personId) throw new AppError('legal_person.own_membership', 403);
  const sites =
    granter.clientIds === null || (grant.clientIds?.every((id) => granter.clientIds?.includes(id)) ?? false);
  const until =
    granter.validUntil === null || (grant.validUntil !== null && grant.validUntil <= granter.validUntil);
  if (!sites) throw new AppError('legal_person.beyond_own', 403, { field: 'clients' });
  if (!until) throw new AppError('legal_person.beyond_own', 403, { field: 'until' });
}
