/**
 * SQL for registering entities and claims to them: a claim nobody proved yet (`pending`) blocks
 * nobody and lapses; a proved registration or a confirmed claim displaces the others and
 * replaces an entity of the code that names another representative. Part of LegalPersonsRepo.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type AuditEvent, appendAudit } from '../audit/repo.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { LegalPerson, NewMembership } from './repo.ts';
import { current, ENTITY, openClaim, upsertMembership } from './sql.ts';

export function createClaimsQueries(db: Kysely<Schema>) {
  return {
    /**
     * A new entity, or a new claim to one (`status: 'pending'`). Lapsed claims on the code go; a
     * proved entity (any other status) displaces every pending claim too, each with its own row
     * in the audit trail. A current entity of the code already registered: 409. A claim counts
     * against its claimant's open claims (`claim`): one on the same code, 409; `atMost` open, 429.
     */
    async insertLegalPerson(
      entity: Omit<LegalPerson, 'claimExpiresAt'> & { representativeHmac: Buffer; claimExpiresAt?: Date },
      members: NewMembership[],
      audit: AuditEvent,
      claim?: { by: string; atMost: number },
    ): Promise<void> {
      try {
        await db.transaction().execute(async (trx) => {
          if (claim) await checkOpenClaims(trx, entity.creditCode, claim);
          const proved = entity.status !== 'pending';
          const replaced = proved
            ? await replaceCurrent(trx, entity.creditCode, entity.representativeHmac)
            : [];
          const lapsed = await removeClaims(trx, entity.creditCode, proved);
          await trx
            .insertInto('legal_persons')
            .values({
              id: entity.id,
              credit_code: entity.creditCode,
              name: entity.name,
              type: entity.type,
              status: entity.status,
              representative_hmac: entity.representativeHmac,
              representative_masked: entity.representativeMasked,
              claim_expires_at: entity.claimExpiresAt ?? null,
            })
            .execute();
          for (const member of members) await upsertMembership(trx, entity.id, member);
          await appendAudit(
            trx,
            audit,
            ...[...replaced, ...lapsed].map((claim) => lapsedEvent(claim, audit)),
          );
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new AppError('legal_person.exists', 409, { field: 'credit_code' });
        throw error;
      }
    },

    /**
     * A pending claim proved (an administrator, a counter): the entity becomes active, with its
     * named representative (when registered) as a member; every other claim on its code lapses,
     * and an entity of the code with another representative is replaced. 404 when there is no
     * such claim (or it was displaced, hence removed), 409 when it is no longer an open claim.
     */
    async confirmClaim(id: string, audit: (claim: LegalPerson) => AuditEvent): Promise<LegalPerson> {
      try {
        return await db.transaction().execute(async (trx) => {
          const code = await trx
            .selectFrom('legal_persons')
            .select('credit_code')
            .where('id', '=', id)
            .executeTakeFirst();
          if (!code) throw new AppError('legal_person.no_claim', 404);
          // Every claim on the code is locked in one order, so two confirmations never deadlock.
          await trx
            .selectFrom('legal_persons')
            .select('id')
            .where('credit_code', '=', code.credit_code)
            .orderBy('id')
            .forUpdate()
            .execute();
          const claim = await trx
            .selectFrom('legal_persons')
            .select([...ENTITY, 'legal_persons.representative_hmac as representativeHmac'])
            .where('id', '=', id)
            .where(openClaim)
            .executeTakeFirst();
          if (!claim) throw new AppError('legal_person.not_pending', 409);
          const { representativeHmac, ...entity } = claim;
          const replaced = await replaceCurrent(trx, entity.creditCode, Buffer.from(representativeHmac));
          const lapsed = await removeClaims(trx, entity.creditCode, true, id);
          await trx
            .updateTable('legal_persons')
            .set({ status: 'active', claim_expires_at: null, updated_at: new Date() })
            .where('id', '=', id)
            .execute();
          const event = audit(entity);
          await trx
            .insertInto('memberships')
            .columns(['legal_person_id', 'person_id', 'role', 'granted_by'])
            .expression((eb) =>
              eb
                .selectFrom('people')
                .select([
                  sql.lit(id).as('legal_person_id'),
                  'people.id',
                  sql.lit('representative').as('role'),
                  sql.lit(event.actor).as('granted_by'),
                ])
                .where('people.id_number_hmac', '=', representativeHmac),
            )
            .onConflict((oc) => oc.columns(['legal_person_id', 'person_id']).doNothing())
            .execute();
          await appendAudit(
            trx,
            event,
            ...[...replaced, ...lapsed].map((other) => lapsedEvent(other, event)),
          );
          return { ...entity, status: 'active' as const, claimExpiresAt: null };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('legal_person.exists', 409);
        throw error;
      }
    },

    /** The registered person a claim names as representative (a member only once it is proved), if any. */
    namedRepresentative(id: string) {
      return db
        .selectFrom('legal_persons')
        .innerJoin('people', 'people.id_number_hmac', 'legal_persons.representative_hmac')
        .select(['people.id', 'people.identity_level as identityLevel'])
        .where('legal_persons.id', '=', id)
        .executeTakeFirst();
    },

    /** The keyed fingerprint of the representative of the code's current entity, if there is one. */
    async currentRepresentative(creditCode: string): Promise<Buffer | undefined> {
      const row = await db
        .selectFrom('legal_persons')
        .select('representative_hmac')
        .where('credit_code', '=', creditCode)
        .where(current)
        .executeTakeFirst();
      return row && Buffer.from(row.representative_hmac);
    },

    /** Deletes lapsed claims (the daily purge); returns how many. */
    async deleteLapsedClaims(): Promise<number> {
      const result = await db
        .deleteFrom('legal_persons')
        .where('status', '=', 'pending')
        .where('claim_expires_at', '<=', sql<Date>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

/** Names the class of advisory locks taken per claimant (two-key locks apart from the audit chain's). */
const CLAIMANT_LOCK = 7_243_003;

/**
 * The claimant's open claims (those they made: registration grants the claimant's own
 * membership; never one that names them, so nobody can use up someone else's), counted with the
 * claimant's other claims waiting their turn, so that a burst of them cannot all pass the count.
 */
async function checkOpenClaims(
  trx: Kysely<Schema>,
  creditCode: string,
  claim: { by: string; atMost: number },
) {
  await sql`SELECT pg_advisory_xact_lock(${CLAIMANT_LOCK}, hashtext(${claim.by}))`.execute(trx);
  const open = await trx
    .selectFrom('legal_persons')
    .innerJoin('memberships', 'memberships.legal_person_id', 'legal_persons.id')
    .select('legal_persons.credit_code as creditCode')
    .where('memberships.person_id', '=', claim.by)
    .whereRef('memberships.granted_by', '=', 'memberships.person_id')
    .where(openClaim)
    .execute();
  if (open.some((other) => other.creditCode === creditCode))
    throw new AppError('legal_person.claim_exists', 409, { field: 'credit_code' });
  if (open.length >= claim.atMost)
    throw new AppError('legal_person.too_many_claims', 429, { params: { max: claim.atMost } });
}

/**
 * Removes the pending claims on a code, locked: every one (`all`, a proved entity displaces them)
 * or only the lapsed. Returns what it removed, for the audit trail.
 */
async function removeClaims(trx: Kysely<Schema>, creditCode: string, all: boolean, keep = '') {
  const claims = await trx
    .selectFrom('legal_persons')
    .select(['id', 'claim_expires_at as expiresAt'])
    .where('credit_code', '=', creditCode)
    .where('status', '=', 'pending')
    .where('id', '<>', keep)
    .orderBy('id')
    .forUpdate()
    .execute();
  const now = new Date();
  const removed = claims
    .map((claim) => ({
      id: claim.id,
      creditCode,
      reason:
        claim.expiresAt !== null && claim.expiresAt <= now ? ('lapsed' as const) : ('displaced' as const),
    }))
    .filter((claim) => all || claim.reason === 'lapsed');
  if (removed.length)
    await trx
      .deleteFrom('legal_persons')
      .where(
        'id',
        'in',
        removed.map((claim) => claim.id),
      )
      .execute();
  return removed;
}

/**
 * A proved registration of a code whose current entity names another representative replaces
 * it (it was registered by someone who was not proved, before claims had to be). The same
 * representative: the entity exists already (409).
 */
async function replaceCurrent(trx: Kysely<Schema>, creditCode: string, representativeHmac: Buffer) {
  const existing = await trx
    .selectFrom('legal_persons')
    .select(['id', 'representative_hmac'])
    .where('credit_code', '=', creditCode)
    .where('status', '<>', 'pending')
    .forUpdate()
    .executeTakeFirst();
  if (!existing) return [];
  if (Buffer.from(existing.representative_hmac).equals(representativeHmac))
    throw new AppError('legal_person.exists', 409, { field: 'credit_code' });
  await trx.deleteFrom('legal_persons').where('id', '=', existing.id).execute();
  return [{ id: existing.id, creditCode, reason: 'replaced' as const }];
}

/** One row per claim that went: who made the change that ended it, and why. */
const lapsedEvent = (
  ended: { id: string; creditCode: string; reason: 'lapsed' | 'displaced' | 'replaced' },
  cause: AuditEvent,
): AuditEvent => ({
  actor: cause.actor,
  action: ended.reason === 'replaced' ? 'legal_person.replaced' : 'legal_person.claim_ended',
  subject: ended.id,
  ip: cause.ip,
  details: { credit_code: ended.creditCode, reason: ended.reason },
});
