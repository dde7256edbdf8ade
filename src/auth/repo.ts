/** SQL for sign-in factors: passkeys, the TOTP authenticator and recovery codes. */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, withAudit } from '../audit/repo.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';

export interface StoredPasskey {
  id: string;
  personId: string;
  name: string;
  publicKey: Buffer;
  counter: number;
  transports: string[];
  backedUp: boolean;
}

export interface PasskeySummary {
  id: string;
  name: string;
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function createFactorsRepo(db: Kysely<Schema>) {
  return {
    listPasskeys(personId: string): Promise<PasskeySummary[]> {
      return db
        .selectFrom('passkeys')
        .select([
          'id',
          'name',
          'backed_up as backedUp',
          'created_at as createdAt',
          'last_used_at as lastUsedAt',
        ])
        .where('person_id', '=', personId)
        .orderBy('created_at')
        .execute();
    },

    async findPasskey(id: string): Promise<StoredPasskey | undefined> {
      const row = await db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();
      return (
        row && {
          id: row.id,
          personId: row.person_id,
          name: row.name,
          publicKey: row.public_key,
          counter: Number(row.counter),
          transports: row.transports.split(' ').filter(Boolean),
          backedUp: row.backed_up,
        }
      );
    },

    async insertPasskey(passkey: StoredPasskey, audit: AuditEvent): Promise<void> {
      try {
        await withAudit(db, audit, (trx) =>
          trx
            .insertInto('passkeys')
            .values({
              id: passkey.id,
              person_id: passkey.personId,
              name: passkey.name,
              public_key: passkey.publicKey,
              counter: passkey.counter,
              transports: passkey.transports.join(' '),
              backed_up: passkey.backedUp,
            })
            .execute(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('passkey.exists', 409);
        throw error;
      }
    },

    /**
     * Records a use. The signature counter must grow (when the authenticator keeps one): a
     * cloned authenticator replaying an old counter is refused, even by two concurrent requests.
     */
    async recordPasskeyUse(id: string, counter: number): Promise<boolean> {
      const update = db
        .updateTable('passkeys')
        .set({ counter, last_used_at: new Date() })
        .where('id', '=', id);
      // Authenticators that keep no counter (synced passkeys) always report 0.
      const result = await (counter > 0
        ? update.where('counter', '<', String(counter))
        : update
      ).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async deletePasskey(personId: string, id: string, audit: AuditEvent): Promise<boolean> {
      return withAudit(db, audit, async (trx) => {
        const result = await trx
          .deleteFrom('passkeys')
          .where('id', '=', id)
          .where('person_id', '=', personId)
          .executeTakeFirst();
        if (result.numDeletedRows !== 1n) throw new AppError('passkey.not_found', 404);
        return true;
      });
    },

    async findTotp(personId: string) {
      const row = await db
        .selectFrom('totp_factors')
        .select(['secret_enc', 'last_step'])
        .where('person_id', '=', personId)
        .executeTakeFirst();
      return (
        row && { secretEnc: row.secret_enc, lastStep: row.last_step === null ? null : Number(row.last_step) }
      );
    },

    /** Stores the authenticator and fresh recovery codes (replacing any earlier ones) at once. */
    async saveTotp(
      personId: string,
      secretEnc: Buffer,
      step: number,
      codeHmacs: Buffer[],
      audit: AuditEvent,
    ) {
      await withAudit(db, audit, async (trx) => {
        await trx
          .insertInto('totp_factors')
          .values({ person_id: personId, secret_enc: secretEnc, last_step: step })
          .onConflict((oc) => oc.column('person_id').doUpdateSet({ secret_enc: secretEnc, last_step: step }))
          .execute();
        await trx.deleteFrom('recovery_codes').where('person_id', '=', personId).execute();
        await trx
          .insertInto('recovery_codes')
          .values(codeHmacs.map((code_hmac) => ({ person_id: personId, code_hmac })))
          .execute();
      });
    },

    /** Moves the last used step forward; false when this step (or a later one) was used already. */
    async advanceTotpStep(personId: string, step: number): Promise<boolean> {
      const result = await db
        .updateTable('totp_factors')
        .set({ last_step: step })
        .where('person_id', '=', personId)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', String(step))]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    /** Turns the authenticator app off; false (and no audit row) when it was not on. */
    async deleteTotp(personId: string, audit: AuditEvent): Promise<boolean> {
      return withAudit(db, audit, async (trx) => {
        await trx.deleteFrom('recovery_codes').where('person_id', '=', personId).execute();
        const removed = await trx
          .deleteFrom('totp_factors')
          .where('person_id', '=', personId)
          .executeTakeFirst();
        if (removed.numDeletedRows === 0n) throw new NoChange();
        return true;
      }).catch(falseWhenNoChange);
    },

    /** Spends a recovery code; false when it is unknown or was used before. */
    async useRecoveryCode(personId: string, codeHmac: Buffer, audit: AuditEvent): Promise<boolean> {
      return withAudit(db, audit, async (trx) => {
        const result = await trx
          .updateTable('recovery_codes')
          .set({ used_at: new Date() })
          .where('person_id', '=', personId)
          .where('code_hmac', '=', codeHmac)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        // Rolls back: no audit row for a code that did not work.
        if (result.numUpdatedRows !== 1n) throw new NoChange();
        return true;
      }).catch(falseWhenNoChange);
    },

    async factorSummary(personId: string) {
      const row = await db
        .selectNoFrom((eb) => [
          eb
            .selectFrom('passkeys')
            .select(sql<number>`count(*)::int`.as('n'))
            .where('person_id', '=', personId)
            .as('passkeys'),
          eb
            .exists(eb.selectFrom('totp_factors').select('person_id').where('person_id', '=', personId))
            .as('totp'),
          eb
            .selectFrom('recovery_codes')
            .select(sql<number>`count(*)::int`.as('n'))
            .where('person_id', '=', personId)
            .where('used_at', 'is', null)
            .as('recoveryCodes'),
        ])
        .executeTakeFirstOrThrow();
      return {
        passkeys: Number(row.passkeys),
        totp: Boolean(row.totp),
        recoveryCodes: Number(row.recoveryCodes),
      };
    },
  };
}

/** Thrown inside the transaction to roll it back: nothing changed, so no audit row either. */
class NoChange extends Error {}

function falseWhenNoChange(error: unknown): false {
  if (error instanceof NoChange) return false;
  throw error;
}

export type FactorsRepo = ReturnType<typeof createFactorsRepo>;
