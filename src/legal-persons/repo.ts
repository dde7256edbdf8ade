/** SQL for legal persons, their memberships, the entity each person acts for at a site, and its uses. */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { type AuditEvent, appendAudit, withAudit } from '../audit/repo.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { LegalPersonsTable, MembershipsTable, Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export type EntityType = LegalPersonsTable['type'];
export type EntityStatus = LegalPersonsTable['status'];
export type Role = MembershipsTable['role'];

export interface LegalPerson {
  id: string;
  creditCode: string;
  name: string;
  type: EntityType;
  status: EntityStatus;
  representativeMasked: string;
  /** A pending claim lapses then; null once proved. */
  claimExpiresAt: Date | null;
}

export interface Membership {
  personId: string;
  role: Role;
  /** Departmental sites it is limited to; null: every site. */
  clientIds: string[] | null;
  /** Last day it is valid (YYYY-MM-DD); null: no end. */
  validUntil: string | null;
}

export interface NewMembership extends Membership {
  grantedBy: string;
}

const ENTITY = [
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
const current = (eb: ExpressionBuilder<Schema, 'legal_persons'>) =>
  eb('legal_persons.status', '<>', 'pending');
/** A claim nobody proved yet that has not lapsed. */
const openClaim = (eb: ExpressionBuilder<Schema, 'legal_persons'>) =>
  eb.and([
    eb('legal_persons.status', '=', 'pending'),
    eb('legal_persons.claim_expires_at', '>', sql<Date>`now()`),
  ]);

const MEMBERSHIP = [
  'memberships.person_id as personId',
  'memberships.role',
  'memberships.client_ids as clientIds',
  sql<string | null>`memberships.valid_until::text`.as('validUntil'),
] as const;

/** Roles that manage the entity's people. */
const MANAGERS: Role[] = ['representative', 'administrator'];

export function createLegalPersonsRepo(db: Kysely<Schema>) {
  return {
    /**
     * A new entity, or a new claim to one (`status: 'pending'`). Lapsed claims on the code go; a
     * proved entity (any other status) displaces every pending claim too, each with its own row
     * in the audit trail. A current entity of the code already registered: 409.
     */
    async insertLegalPerson(
      entity: Omit<LegalPerson, 'claimExpiresAt'> & { representativeHmac: Buffer; claimExpiresAt?: Date },
      members: NewMembership[],
      audit: AuditEvent,
    ): Promise<void> {
      try {
        await db.transaction().execute(async (trx) => {
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
     * and an entity of the code with another representative is replaced. 409 when it is no
     * longer an open claim.
     */
    async confirmClaim(id: string, audit: (claim: LegalPerson) => AuditEvent): Promise<LegalPerson> {
      try {
        return await db.transaction().execute(async (trx) => {
          const code = await trx
            .selectFrom('legal_persons')
            .select('credit_code')
            .where('id', '=', id)
            .executeTakeFirst();
          // Every claim on the code is locked in one order, so two confirmations never deadlock.
          await trx
            .selectFrom('legal_persons')
            .select('id')
            .where('credit_code', '=', code?.credit_code ?? '')
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

    /** The open claims a person made (they are its first member), for the limit on claims. */
    openClaimsOf(personId: string) {
      return (
        db
          .selectFrom('legal_persons')
          .innerJoin('memberships', 'memberships.legal_person_id', 'legal_persons.id')
          .select(['legal_persons.id', 'legal_persons.credit_code as creditCode'])
          .where('memberships.person_id', '=', personId)
          // Claims the person made (registration grants the claimant's own membership), never
          // one that names them: nobody can use up someone else's claims.
          .whereRef('memberships.granted_by', '=', 'memberships.person_id')
          .where(openClaim)
          .execute()
      );
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

    /** The entity of a credit code: the current one, never a claim. */
    findByCode(creditCode: string): Promise<LegalPerson | undefined> {
      return db
        .selectFrom('legal_persons')
        .select(ENTITY)
        .where('credit_code', '=', creditCode)
        .where(current)
        .executeTakeFirst();
    },

    findById(id: string): Promise<LegalPerson | undefined> {
      return db.selectFrom('legal_persons').select(ENTITY).where('id', '=', id).executeTakeFirst();
    },

    /** What a person sees under a credit code: the entity they are a member of, else their open claim to it. */
    findForMember(creditCode: string, personId: string): Promise<LegalPerson | undefined> {
      return db
        .selectFrom('legal_persons')
        .innerJoin('memberships', 'memberships.legal_person_id', 'legal_persons.id')
        .select(ENTITY)
        .where('legal_persons.credit_code', '=', creditCode)
        .where('memberships.person_id', '=', personId)
        .where((eb) => eb.or([current(eb), openClaim(eb)]))
        .orderBy(sql`legal_persons.status = 'pending'`)
        .limit(1)
        .executeTakeFirst();
    },

    /** Changes the status (the caller found the entity). */
    async setStatus(id: string, status: EntityStatus, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .updateTable('legal_persons')
          .set({ status, updated_at: new Date() })
          .where('id', '=', id)
          .execute(),
      );
    },

    /** The entities a person holds a membership of, with that membership. */
    listForPerson(personId: string): Promise<Array<LegalPerson & Membership>> {
      return db
        .selectFrom('memberships')
        .innerJoin('legal_persons', 'legal_persons.id', 'memberships.legal_person_id')
        .select([...ENTITY, ...MEMBERSHIP])
        .where('memberships.person_id', '=', personId)
        .where((eb) => eb.or([current(eb), openClaim(eb)]))
        .orderBy('legal_persons.name')
        .execute();
    },

    membership(entityId: string, personId: string): Promise<Membership | undefined> {
      return db
        .selectFrom('memberships')
        .select(MEMBERSHIP)
        .where('legal_person_id', '=', entityId)
        .where('person_id', '=', personId)
        .executeTakeFirst();
    },

    /** Members with their name and masked number, managers first. */
    members(entityId: string) {
      return db
        .selectFrom('memberships')
        .innerJoin('people', 'people.id', 'memberships.person_id')
        .select([
          ...MEMBERSHIP,
          'people.name',
          'people.id_number_masked as masked',
          'memberships.granted_by as grantedBy',
        ])
        .where('memberships.legal_person_id', '=', entityId)
        .orderBy(sql`array_position(array['representative','administrator','agent'], memberships.role::text)`)
        .orderBy('people.name')
        .execute();
    },

    /** Adds or changes a membership; refused when it would leave the entity without a manager. */
    async saveMembership(entityId: string, member: NewMembership, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, async (trx) => {
        await lockEntity(trx, entityId);
        await upsertMembership(trx, entityId, member);
        await requireManager(trx, entityId);
      });
    },

    /** Names of the entities (not deregistered) that would be left with no manager without this person. */
    async soleManagerOf(personId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('memberships as m')
        .innerJoin('legal_persons as lp', 'lp.id', 'm.legal_person_id')
        .select('lp.name')
        .where('m.person_id', '=', personId)
        .where('m.role', 'in', MANAGERS)
        .where('lp.status', '<>', 'deregistered')
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('memberships as o')
                .select('o.person_id')
                .whereRef('o.legal_person_id', '=', 'm.legal_person_id')
                .where('o.person_id', '<>', personId)
                .where('o.role', 'in', MANAGERS)
                .where((eb) =>
                  eb.or([eb('o.valid_until', 'is', null), eb('o.valid_until', '>=', CHINA_TODAY)]),
                ),
            ),
          ),
        )
        .orderBy('lp.name')
        .execute();
      return rows.map((row) => row.name);
    },

    /** Ends a membership; refused when it is the last manager's. */
    async deleteMembership(entityId: string, personId: string, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, async (trx) => {
        await lockEntity(trx, entityId);
        const result = await trx
          .deleteFrom('memberships')
          .where('legal_person_id', '=', entityId)
          .where('person_id', '=', personId)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new AppError('legal_person.not_member', 404);
        await requireManager(trx, entityId);
      });
    },

    async saveChoice(personId: string, clientId: string, entityId: string): Promise<void> {
      await db
        .insertInto('legal_person_choices')
        .values({ person_id: personId, client_id: clientId, legal_person_id: entityId })
        .onConflict((oc) =>
          oc
            .columns(['person_id', 'client_id'])
            .doUpdateSet({ legal_person_id: entityId, chosen_at: new Date() }),
        )
        .execute();
    },

    /** The entity chosen for this site, with the person's membership (if they still hold one). */
    findChoice(personId: string, clientId: string) {
      return db
        .selectFrom('legal_person_choices as choice')
        .innerJoin('legal_persons', 'legal_persons.id', 'choice.legal_person_id')
        .leftJoin('memberships', (join) =>
          join
            .onRef('memberships.legal_person_id', '=', 'choice.legal_person_id')
            .onRef('memberships.person_id', '=', 'choice.person_id'),
        )
        .select([
          ...ENTITY,
          'memberships.role',
          'memberships.client_ids as clientIds',
          sql<string | null>`memberships.valid_until::text`.as('validUntil'),
        ])
        .where('choice.person_id', '=', personId)
        .where('choice.client_id', '=', clientId)
        .executeTakeFirst();
    },

    async recordUse(entityId: string, clientId: string, personId: string): Promise<void> {
      await db
        .insertInto('legal_person_uses')
        .values({ legal_person_id: entityId, client_id: clientId, person_id: personId })
        .onConflict((oc) =>
          oc.columns(['legal_person_id', 'client_id', 'person_id']).doUpdateSet({ last_used_at: new Date() }),
        )
        .execute();
    },

    /** Sites the entity's people have acted for it at: how many people, and when last. */
    uses(entityId: string) {
      return db
        .selectFrom('legal_person_uses')
        .select([
          'client_id as clientId',
          sql<number>`count(*)::int`.as('people'),
          sql<Date>`max(last_used_at)`.as('lastUsedAt'),
        ])
        .where('legal_person_id', '=', entityId)
        .groupBy('client_id')
        .orderBy(sql`max(last_used_at)`, 'desc')
        .execute();
    },
  };
}

/** Serialises changes to one entity's memberships (the manager count must hold under concurrency). */
async function lockEntity(trx: Kysely<Schema>, entityId: string) {
  const row = await trx
    .selectFrom('legal_persons')
    .select('id')
    .where('id', '=', entityId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('legal_person.not_found', 404);
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

async function requireManager(trx: Kysely<Schema>, entityId: string) {
  const row = await trx
    .selectFrom('memberships')
    .select(sql<number>`count(*)::int`.as('managers'))
    .where('legal_person_id', '=', entityId)
    .where('role', 'in', MANAGERS)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>=', CHINA_TODAY)]))
    .executeTakeFirstOrThrow();
  if (row.managers === 0) throw new AppError('legal_person.last_admin', 409);
}

function upsertMembership(trx: Kysely<Schema>, entityId: string, member: NewMembership) {
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

export type LegalPersonsRepo = ReturnType<typeof createLegalPersonsRepo>;
