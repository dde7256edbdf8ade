/** SQL for verified attributes: one current value per holder and type, as its source published it. */
import type { Kysely } from 'kysely';
import { type AuditEvent, appendAudit } from '../audit/repo.ts';
import type { Schema } from '../db/schema.ts';

export interface Published {
  holderId: string;
  typeCode: string;
  value: unknown;
  verifiedAt: Date;
  validUntil: Date | null;
  evidence: Record<string, unknown>;
  sourceClientId: string;
}

export function createAttributesRepo(db: Kysely<Schema>) {
  return {
    /**
     * Stores values (a new one replaces the holder's earlier value of the type, withdrawn or not)
     * and withdrawals, with their audit rows, in one transaction.
     */
    async apply(
      changes: { publish: Published[]; withdraw: Array<Pick<Published, 'holderId' | 'typeCode'>> },
      audit: AuditEvent[],
    ) {
      await db.transaction().execute(async (trx) => {
        // PostgreSQL takes at most 65,535 parameters a statement: 7 a row, so slices of 4,000.
        for (let i = 0; i < changes.publish.length; i += 4000)
          await trx
            .insertInto('attributes')
            .values(
              changes.publish.slice(i, i + 4000).map((p) => ({
                holder_id: p.holderId,
                type_code: p.typeCode,
                value: JSON.stringify(p.value),
                verified_at: p.verifiedAt,
                valid_until: p.validUntil,
                evidence: JSON.stringify(p.evidence),
                source_client_id: p.sourceClientId,
              })),
            )
            .onConflict((oc) =>
              oc.columns(['holder_id', 'type_code']).doUpdateSet((eb) => ({
                value: eb.ref('excluded.value'),
                verified_at: eb.ref('excluded.verified_at'),
                valid_until: eb.ref('excluded.valid_until'),
                evidence: eb.ref('excluded.evidence'),
                source_client_id: eb.ref('excluded.source_client_id'),
                withdrawn_at: null,
                updated_at: new Date(),
              })),
            )
            .execute();
        for (const w of changes.withdraw)
          await trx
            .updateTable('attributes')
            .set({ withdrawn_at: new Date(), updated_at: new Date() })
            .where('holder_id', '=', w.holderId)
            .where('type_code', '=', w.typeCode)
            .where('withdrawn_at', 'is', null)
            .execute();
        if (audit.length) await appendAudit(trx, ...audit);
      });
    },

    /** The current values of these types held by these holders (a person, and the entity they act for). */
    heldBy(holderIds: string[], typeCodes: string[]) {
      return db
        .selectFrom('attributes')
        .select(['holder_id', 'type_code', 'value', 'verified_at', 'valid_until', 'source_client_id'])
        .where('holder_id', 'in', holderIds)
        .where('type_code', 'in', typeCodes)
        .where('withdrawn_at', 'is', null)
        .execute();
    },

    /** Everything verified about a holder that its source has not withdrawn, newest first. */
    listForHolder(holderId: string) {
      return db
        .selectFrom('attributes')
        .select(['type_code', 'value', 'verified_at', 'valid_until', 'source_client_id', 'updated_at'])
        .where('holder_id', '=', holderId)
        .where('withdrawn_at', 'is', null)
        .orderBy('updated_at', 'desc')
        .execute();
    },
  };
}

export type AttributesRepo = ReturnType<typeof createAttributesRepo>;
