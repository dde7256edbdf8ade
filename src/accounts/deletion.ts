/**
 * Deleting an account at the person's request. The request starts a waiting period of
 * WAITING_DAYS during which the person may cancel it from their page (in case of a mistake, or
 * of someone else at their keyboard: the account's mobile number is told of the request). Then `yitong accounts purge`, run daily, deletes the account
 * and all that hangs from it, tells every site it was signed in to, and keeps only the keyed
 * fingerprint of the identity number for RETENTION_YEARS so the audit trail (which has no name
 * or number) can still answer an inquiry about what was done with the account.
 *
 * @example
 *   const due = await deletion.request(person, ip);
 *   await deletion.cancel(person, ip);
 *   await deletion.purgeDue(new Date(), (done, total) => …); // from the CLI
 */
import { AppError } from '../errors.ts';
import type { Notify } from './notices.ts';
import type { AccountsRepo, Person } from './repo.ts';

export const WAITING_DAYS = 15;
export const RETENTION_YEARS = 3;
const DAY = 86_400_000;

export function createDeletion(deps: {
  repo: Pick<AccountsRepo, 'setDeletionDue' | 'deletionsDue' | 'purge' | 'dropExpiredFingerprints'>;
  /** Entities that would be left with nobody to manage them. */
  soleManagerOf(personId: string): Promise<string[]>;
  /** Ends every site's grants and sessions of the person, with back-channel logout. */
  logOutEverywhere(personId: string): Promise<void>;
  /** Tells the account's number of the request, in case it was not the person asking. */
  notify: Notify;
}) {
  const { repo } = deps;

  async function requireNoOrphans(personId: string) {
    const entities = await deps.soleManagerOf(personId);
    if (entities.length > 0)
      throw new AppError('delete.sole_manager', 409, { params: { entities: entities.join('、') } });
  }

  return {
    /** Schedules the deletion; the date it will happen. */
    async request(person: Person, ip: string): Promise<Date> {
      if (person.deletionDueAt) return person.deletionDueAt;
      await requireNoOrphans(person.id);
      const due = new Date(Date.now() + WAITING_DAYS * DAY);
      await repo.setDeletionDue(person.id, due, {
        actor: person.id,
        action: 'account.deletion_requested',
        subject: person.id,
        ip,
        details: { due: due.toISOString() },
      });
      await deps.notify(person, { kind: 'deletion_requested', due: due.toISOString() });
      return due;
    },

    async cancel(person: Person, ip: string): Promise<void> {
      if (!person.deletionDueAt) return;
      await repo.setDeletionDue(person.id, null, {
        actor: person.id,
        action: 'account.deletion_cancelled',
        subject: person.id,
        ip,
      });
    },

    /**
     * Deletes every account whose waiting period is over, then drops fingerprints past their
     * retention. An account that became the last manager of an entity meanwhile is kept and named.
     */
    async purgeDue(now: Date, progress: (done: number, total: number) => void = () => {}) {
      const due = await repo.deletionsDue(now);
      const kept: Array<{ personId: string; entities: string }> = [];
      let deleted = 0;
      const retainUntil = new Date(now);
      retainUntil.setFullYear(retainUntil.getFullYear() + RETENTION_YEARS);
      for (const [index, personId] of due.entries()) {
        try {
          await requireNoOrphans(personId);
          await deps.logOutEverywhere(personId);
          const purged = await repo.purge(personId, now, retainUntil, {
            actor: 'system',
            action: 'account.deleted',
            subject: personId,
            details: { retain_until: retainUntil.toISOString() },
          });
          if (purged) deleted++;
        } catch (error) {
          if (!(error instanceof AppError) || error.code !== 'delete.sole_manager') throw error;
          kept.push({ personId, entities: String(error.params?.entities) });
        }
        progress(index + 1, due.length);
      }
      return {
        deleted,
        kept,
        fingerprintsDropped: await repo.dropExpiredFingerprints(now),
      };
    },
  };
}

export type Deletion = ReturnType<typeof createDeletion>;
