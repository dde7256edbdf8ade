/**
 * SQL for what a person granted to sites: remembered consents, the grants (and sessions) each
 * site holds, and the releases of claims read back from the audit trail. Part of AccountsRepo.
 */
import type { Kysely } from 'kysely';
import { type AuditEvent, withAudit } from '../audit/repo.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export function createGrantsQueries(db: Kysely<Schema>) {
  return {
    async findConsent(personId: string, clientId: string): Promise<string[] | undefined> {
      const row = await db
        .selectFrom('consents')
        .select('scopes')
        .where('person_id', '=', personId)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row?.scopes.split(' ').filter(Boolean);
    },

    /** Remembers a grant (and the session id) a site holds for a person; refreshed on every use. */
    async recordSiteGrant(
      grantId: string,
      personId: string,
      clientId: string,
      session: { sid: string | undefined; sessionUid: string },
    ) {
      const sid = session.sid ?? null;
      await db
        .insertInto('site_grants')
        .values({
          grant_id: grantId,
          person_id: personId,
          client_id: clientId,
          sid,
          session_uid: session.sessionUid,
        })
        .onConflict((oc) =>
          oc
            .column('grant_id')
            .doUpdateSet({ sid, session_uid: session.sessionUid, last_used_at: new Date() }),
        )
        .execute();
    },

    siteGrants(personId: string, clientId?: string) {
      let query = db
        .selectFrom('site_grants')
        .select([
          'grant_id as grantId',
          'client_id as clientId',
          'sid',
          'session_uid as sessionUid',
          'last_used_at as lastUsedAt',
        ])
        .where('person_id', '=', personId);
      if (clientId) query = query.where('client_id', '=', clientId);
      return query.execute();
    },

    /** Records of grants last used before `before`: the provider has let them expire. */
    async forgetSiteGrants(before: Date): Promise<number> {
      const result = await db.deleteFrom('site_grants').where('last_used_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Ends the person's consent and grants at a site; false when there was no consent. */
    async revokeSite(personId: string, clientId: string, audit: AuditEvent): Promise<boolean> {
      return withAudit(db, audit, async (trx) => {
        await trx
          .deleteFrom('site_grants')
          .where('person_id', '=', personId)
          .where('client_id', '=', clientId)
          .execute();
        const result = await trx
          .deleteFrom('consents')
          .where('person_id', '=', personId)
          .where('client_id', '=', clientId)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new AppError('site.not_yours', 403);
        return true;
      });
    },

    /** The sites a person has consented to, newest first. */
    listConsents(personId: string) {
      return db
        .selectFrom('consents')
        .select(['client_id as clientId', 'scopes', 'created_at as since', 'updated_at as changed'])
        .where('person_id', '=', personId)
        .orderBy('updated_at', 'desc')
        .execute();
    },

    /** Releases of claims to sites (from the audit trail), newest first, `limit` before `before`. */
    listReleases(personId: string, limit: number, before?: string) {
      let query = db
        .selectFrom('audit_events')
        .select(['seq', 'at', 'details'])
        .where('subject', '=', personId)
        .where('action', '=', 'claims.released');
      if (before) query = query.where('seq', '<', before);
      return query.orderBy('seq', 'desc').limit(limit).execute();
    },

    async saveConsent(
      personId: string,
      clientId: string,
      scopes: string[],
      audit: AuditEvent,
    ): Promise<void> {
      const joined = scopes.join(' ');
      await withAudit(db, audit, (trx) =>
        trx
          .insertInto('consents')
          .values({ person_id: personId, client_id: clientId, scopes: joined })
          .onConflict((oc) =>
            oc.columns(['person_id', 'client_id']).doUpdateSet({ scopes: joined, updated_at: new Date() }),
          )
          .execute(),
      );
    },
  };
}
