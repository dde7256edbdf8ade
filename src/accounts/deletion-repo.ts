/**
 * SQL for deleting accounts: the deletion a person asked for (scheduled, cancelled), carrying it
 * out, and the fingerprints that outlive it for the retention period. Part of AccountsRepo.
 */
import type { Kysely } from 'kysely';
import { type AuditEvent, appendAudit, withAudit } from '../audit/repo.ts';
import type { Schema } from '../db/schema.ts';

export function createDeletionQueries(db: Kysely<Schema>, changed: (personId: string) => void) {
  return {
    /** Schedules (a date) or cancels (null) the deletion the person asked for. */
    async setDeletionDue(personId: string, due: Date | null, audit: AuditEvent): Promise<void> {
      await withAudit(db, audit, (trx) =>
        trx
          .updateTable('people')
          .set({ deletion_due_at: due, updated_at: new Date() })
          .where('id', '=', personId)
          .execute(),
      );
      changed(personId);
    },

    /** Accounts whose deletion is due. */
    async deletionsDue(now: Date): Promise<string[]> {
      const rows = await db
        .selectFrom('people')
        .select('id')
        .where('deletion_due_at', '<=', now)
        .orderBy('deletion_due_at')
        .execute();
      return rows.map((row) => row.id);
    },

    /**
     * Deletes the account and everything hanging from it (credentials, consents, grants,
     * sessions, memberships); only the keyed fingerprint of the number stays, until `retainUntil`.
     */
    async purge(personId: string, now: Date, retainUntil: Date, audit: AuditEvent): Promise<boolean> {
      const purged = await db.transaction().execute(async (trx) => {
        // Re-checked under the row's lock: a deletion cancelled since the list was read stays cancelled.
        const due = await trx
          .selectFrom('people')
          .select('id')
          .where('id', '=', personId)
          .where('deletion_due_at', '<=', now)
          .forUpdate()
          .executeTakeFirst();
        if (!due) return false;
        await trx
          .insertInto('deleted_accounts')
          .columns(['person_id', 'id_number_hmac', 'retain_until'])
          .expression((eb) =>
            eb
              .selectFrom('people')
              .select(['id', 'id_number_hmac', eb.val(retainUntil).as('retain_until')])
              .where('id', '=', personId),
          )
          .execute();
        // What departments verified about the person goes with the account.
        await trx.deleteFrom('attributes').where('holder_id', '=', personId).execute();
        await trx.deleteFrom('attribute_corrections').where('holder_id', '=', personId).execute();
        await trx.deleteFrom('people').where('id', '=', personId).execute();
        await appendAudit(trx, audit);
        return true;
      });
      if (purged) changed(personId);
      return purged;
    },

    /** Fingerprints kept past their retention period go. */
    async dropExpiredFingerprints(now: Date): Promise<number> {
      const result = await db
        .deleteFrom('deleted_accounts')
        .where('retain_until', '<', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
