/** The column lists and conditions the legal-person queries share (repo.ts, claims-repo.ts). */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';
import type { NewMembership } from './repo.ts';

export const ENTITY = [
  'legal_persons.id',
  'legal_persons.credit_code as creditCode',
  'legal_persons.name',
  'legal_persons.type',
  'legal_persons.status',
  'legal_persons.representative_masked as representativeMasked',
  'legal_persons.claim_expires_at as claimExpiresAt',
] as const;

/** Today in China, where end dates are read: an authorisation "until 30 June" ends at midnight Beijing time. */
export const CHINA_TODAY = sql<string>`(now() AT TIME ZONE 'Asia/Shanghai')::date`;
export const current = (eb: ExpressionBuilder<Schema, 'legal_persons'>) =>
  eb('legal_persons.status', '<>', 'pending');
/** A claim nobody proved yet that has not lapsed. */
export const openClaim = (eb: ExpressionBuilder<Schema, 'legal_persons'>) =>
  eb.and([
    eb('legal_persons.status', '=', 'pending'),
    eb('legal_persons.claim_expires_at', '>', sql<Date>`now()`),
  ]);

export const MEMBERSHIP = [
  'memberships.person_id as personId',
  'memberships.role',
  'memberships.client_ids as clientIds',
  sql<string | null>`memberships.valid_until::text`.as('validUntil'),
] as const;

export function upsertMembership(trx: Kysely<Schema>, entityId: string, member: NewMembership) {
  const values = {
    role: member.role,
    client_ids: member.clientIds,
    valid_until: member.validUntil,
    granted_by: member.grantedBy,
  };
  return trx
    .insertInto('memberships')
    .values({ legal_person_id: entityId, person_id: member.personId, ...values })
    .onConflict((oc) =>
      oc.columns(['legal_person_id', 'person_id']).doUpdateSet({ ...values, updated_at: new Date() }),
    )
    .execute();
}
