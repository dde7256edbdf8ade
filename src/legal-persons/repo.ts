/**
 * SQL for legal persons, their memberships, the entity each person acts for at a site, and its
 * uses; registrations and claims are in claims-repo.ts.
 */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, withAudit } from '../audit/repo.ts';
import type { LegalPersonsTable, MembershipsTable, Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { createClaimsQueries } from './claims-repo.ts';
import { CHINA_TODAY, current, ENTITY, MEMBERSHIP, openClaim, upsertMembership } from './sql.ts';

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

/** Roles that manage the entity's people. */
const MANAGERS: Role[] = ['representative', 'administrator'];

export function createLegalPersonsRepo(db: Kysely<Schema>) {
  return {
    ...createClaimsQueries(db),

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
    /** The current entity of each of these credit codes, in one query: code → id. */
    async currentIdsByCode(codes: string[]): Promise<Map<string, string>> {
      if (!codes.length) return new Map();
      const rows = await db
        .selectFrom('legal_persons')
        .select(['id', 'credit_code'])
        .where('credit_code', 'in', codes)
        .where(current)
        .execute();
      return new Map(rows.map((row) => [row.credit_code, row.id]));
    },

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
          'people.identity_level as identityLevel',
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

export type LegalPersonsRepo = ReturnType<typeof createLegalPersonsRepo>;
