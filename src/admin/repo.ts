/** SQL of the admin console: who administers what, and searches limited to a region. */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, type AuditFilter, withAudit } from '../audit/repo.ts';
import type { AdminsTable, Schema } from '../db/schema.ts';

export type AdminRole = AdminsTable['role'];

export interface Grant {
  role: AdminRole;
  regionCode: string;
}

const like = (value: string) => `${value.replace(/[%_\\]/g, '\\$&')}%`;

export function createAdminRepo(db: Kysely<Schema>) {
  return {
    grantsOf(personId: string): Promise<Grant[]> {
      return db
        .selectFrom('admins')
        .select(['role', 'region_code as regionCode'])
        .where('person_id', '=', personId)
        .execute();
    },

    async addGrant(personId: string, grant: Grant, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .insertInto('admins')
          .values({ person_id: personId, role: grant.role, region_code: grant.regionCode })
          .onConflict((oc) => oc.doNothing())
          .execute(),
      );
    },

    /** People whose number begins with `prefix` ('' for all), by HMAC of the number, phone or name. */
    searchPeople(prefix: string, query: { idHmac?: Buffer; phone?: string; name?: string }) {
      let search = db
        .selectFrom('people')
        .select(['id', 'name', 'id_number_masked as masked', 'identity_level as identityLevel', 'status'])
        .where('id_number_masked', 'like', like(prefix));
      if (query.idHmac) search = search.where('id_number_hmac', '=', query.idHmac);
      else if (query.phone) search = search.where('phone', '=', query.phone);
      else search = search.where('name', 'like', like(query.name ?? ''));
      return search.orderBy('name').limit(50).execute();
    },

    /**
     * Entities and open claims whose code was issued under `prefix`, by code or name; an empty
     * query lists the open claims (the work waiting). A claim shows who made it, masked.
     */
    searchLegalPersons(prefix: string, query: string) {
      // Who made a claim: the member who granted their own membership (registration does).
      const claimant = (column: 'people.name' | 'people.id_number_masked') =>
        sql<
          string | null
        >`(SELECT ${sql.ref(column)} FROM memberships JOIN people ON people.id = memberships.person_id
          WHERE memberships.legal_person_id = legal_persons.id AND memberships.granted_by = memberships.person_id LIMIT 1)`;
      let search = db
        .selectFrom('legal_persons')
        .select([
          'id',
          'credit_code as creditCode',
          'name',
          'type',
          'status',
          'claim_expires_at as claimExpiresAt',
          claimant('people.name').as('claimantName'),
          claimant('people.id_number_masked').as('claimantMasked'),
          'representative_masked as representativeMasked',
        ])
        .where(sql<string>`substr(credit_code, 3, 6)`, 'like', like(prefix))
        .where((eb) => eb.or([eb('status', '<>', 'pending'), eb('claim_expires_at', '>', sql<Date>`now()`)]));
      if (!query) search = search.where('status', '=', 'pending');
      return search
        .where((eb) =>
          eb.or([
            eb('credit_code', 'like', like(query.toUpperCase())),
            eb('name', 'like', `%${like(query)}`),
          ]),
        )
        .orderBy('credit_code')
        .orderBy('status')
        .limit(50)
        .execute();
    },

    /** A person's latest successful sign-ins, newest first (failed attempts are `signin.failed`). */
    signInsOf(personId: string, limit: number) {
      return (
        db
          .selectFrom('audit_events')
          // As the audit trail's rows: the admin API answers them as such.
          .select(['seq', 'at', 'actor', 'action', 'subject', 'ip', 'details'])
          .where('subject', '=', personId)
          .where('action', '=', 'signin')
          .orderBy('seq', 'desc')
          .limit(limit)
          .execute()
      );
    },

    /** The audit trail, newest first; with a prefix, only rows about people or entities under it. */
    searchAudit(prefix: string, filter: AuditFilter, limit: number) {
      // Who did it and to whom, as people read them (masked on the page): joined, not looked up per row.
      let query = db
        .selectFrom('audit_events')
        .leftJoin('people as by', 'by.id', 'audit_events.actor')
        .leftJoin('people as to', 'to.id', 'audit_events.subject')
        .leftJoin('legal_persons as entity', 'entity.id', 'audit_events.subject')
        .select([
          'audit_events.seq',
          'audit_events.at',
          'audit_events.actor',
          'audit_events.action',
          'audit_events.subject',
          'audit_events.ip',
          'audit_events.details',
          'by.name as actorName',
          'by.id_number_masked as actorMasked',
          'to.name as subjectName',
          'to.id_number_masked as subjectMasked',
          'entity.name as entityName',
          'entity.credit_code as entityCode',
        ]);
      if (prefix) {
        query = query.where((eb) =>
          eb.or([
            eb.exists(
              eb
                .selectFrom('people')
                .select('people.id')
                .whereRef('people.id', '=', 'audit_events.subject')
                .where('people.id_number_masked', 'like', like(prefix)),
            ),
            eb.exists(
              eb
                .selectFrom('legal_persons')
                .select('legal_persons.id')
                .whereRef('legal_persons.id', '=', 'audit_events.subject')
                .where(sql<string>`substr(legal_persons.credit_code, 3, 6)`, 'like', like(prefix)),
            ),
          ]),
        );
      }
      if (filter.subject) query = query.where('audit_events.subject', '=', filter.subject);
      if (filter.action) query = query.where('audit_events.action', 'like', like(filter.action));
      if (filter.clientId)
        query = query.where(sql<string>`audit_events.details->>'client_id'`, '=', filter.clientId);
      if (filter.from) query = query.where('audit_events.at', '>=', filter.from);
      if (filter.to) query = query.where('audit_events.at', '<', filter.to);
      return query.orderBy('audit_events.seq', 'desc').limit(limit).execute();
    },
  };
}

export type AdminRepo = ReturnType<typeof createAdminRepo>;
