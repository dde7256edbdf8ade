/**
 * The sign-in sessions a person's page lists: recorded each time a session is used (a site hop,
 * a visit to the account page), ended one at a time or all together.
 */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, appendAudit } from '../audit/repo.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Place } from './devices.ts';

export interface SessionSeen extends Place {
  personId: string;
  uid: string;
  device: string;
  /** The session's latest sign-in. */
  authTime: Date;
}

const LISTED = 50;

/** `changed(personId)` when a session of theirs is revoked, for this node's cache (accounts/person-cache.ts). */
export function createSessionsRepo(db: Kysely<Schema>, changed: (personId: string) => void = () => {}) {
  return {
    /** Inserts the session, or marks it active now (and its latest sign-in; open again if it was closed). */
    async seen(session: SessionSeen): Promise<void> {
      await db
        .insertInto('sign_in_sessions')
        .values({
          person_id: session.personId,
          uid: session.uid,
          device: session.device,
          network: session.network,
          area: session.area,
          auth_time: session.authTime,
        })
        .onConflict((oc) =>
          oc
            .columns(['person_id', 'uid'])
            .doUpdateSet({ auth_time: session.authTime, last_active_at: new Date(), ended_at: null }),
        )
        .execute();
    },

    /** Open sessions, most recently active first. */
    listOpen(personId: string) {
      return db
        .selectFrom('sign_in_sessions')
        .select([
          'uid',
          'device',
          'network',
          'area',
          'started_at as startedAt',
          'auth_time as authTime',
          'last_active_at as lastActiveAt',
        ])
        .where('person_id', '=', personId)
        .where('ended_at', 'is', null)
        .orderBy('last_active_at', 'desc')
        .limit(LISTED)
        .execute();
    },

    /** The uid of every session on record (records stay a day after their session ends). */
    async uids(personId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('sign_in_sessions')
        .select('uid')
        .where('person_id', '=', personId)
        .execute();
      return rows.map((row) => row.uid);
    },

    /**
     * Ends the session and takes the site grants made through it: returned, for the caller to end
     * exactly those. 403 when the session is not this person's.
     */
    async end(personId: string, uid: string, audit: AuditEvent) {
      const grants = await db.transaction().execute(async (trx) => {
        const ended = await trx
          .updateTable('sign_in_sessions')
          // Revoked: even if a request under way saves the provider's session again.
          .set({ ended_at: sql`coalesce(ended_at, now())`, revoked_at: new Date() })
          .where('person_id', '=', personId)
          .where('uid', '=', uid)
          .executeTakeFirst();
        if (ended.numUpdatedRows !== 1n) throw new AppError('session.not_yours', 403);
        const grants = await trx
          .deleteFrom('site_grants')
          .where('person_id', '=', personId)
          .where('session_uid', '=', uid)
          .returning(['grant_id as grantId', 'client_id as clientId', 'sid'])
          .execute();
        await appendAudit(trx, {
          ...audit,
          details: { clients: [...new Set(grants.map((grant) => grant.clientId))] },
        });
        return grants;
      });
      changed(personId);
      return grants;
    },

    /** Sessions whose provider session has gone (signed out at a site, expired). */
    async close(personId: string, uids: string[]): Promise<void> {
      if (uids.length === 0) return;
      await db
        .updateTable('sign_in_sessions')
        .set({ ended_at: new Date() })
        .where('person_id', '=', personId)
        .where('uid', 'in', uids)
        .execute();
    },

    /** The person's latest sign-ins and failed attempts, from the audit trail, newest first. */
    recentSignIns(personId: string, limit: number) {
      return db
        .selectFrom('audit_events')
        .select(['at', 'action', 'ip', 'details'])
        .where('subject', '=', personId)
        .where('action', 'in', ['signin', 'signin.failed'])
        .orderBy('seq', 'desc')
        .limit(limit)
        .execute();
    },

    /** Records of sessions that ended, or went quiet, before `before`: nobody is shown them again. */
    async forget(before: Date): Promise<number> {
      const result = await db
        .deleteFrom('sign_in_sessions')
        .where((eb) => eb.or([eb('ended_at', '<', before), eb('last_active_at', '<', before)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>;
