/** SQL for verified attributes: one current value per holder and type, as its source published it. */
import { type Kysely, sql } from 'kysely';
import { type AuditEvent, appendAudit, withAudit } from '../audit/repo.ts';
import { isUniqueViolation } from '../db/errors.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';

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

    /** Which sites received which of the person's items, and when last (from the ledger). */
    async receivedBy(personId: string) {
      const rows = await sql<{ item: string; client_id: string; last: Date }>`
        select item->>'item' as item, details->>'client_id' as client_id, max(at) as last
        from audit_events, jsonb_array_elements(details->'items') as item
        where subject = ${personId} and action = 'claims.released' and details ? 'items'
        group by 1, 2 order by 3 desc`.execute(db);
      return rows.rows;
    },

    /**
     * A person's "this is wrong" about one of their values, sent to the department that
     * published it; false when there is no such value. One open request per type (409).
     */
    async requestCorrection(holderId: string, typeCode: string, message: string, audit: AuditEvent) {
      try {
        return await withAudit(db, audit, async (trx) => {
          const inserted = await trx
            .insertInto('attribute_corrections')
            .columns(['holder_id', 'type_code', 'source_client_id', 'message'])
            .expression((eb) =>
              eb
                .selectFrom('attributes')
                .select(['holder_id', 'type_code', 'source_client_id', eb.val(message).as('message')])
                .where('holder_id', '=', holderId)
                .where('type_code', '=', typeCode)
                .where('withdrawn_at', 'is', null),
            )
            .returning('id')
            .executeTakeFirst();
          if (!inserted) throw new AppError('attribute.correction.none', 404);
          return true;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError('attribute.correction.open', 409);
        throw error;
      }
    },

    /** The person's correction requests, newest first. */
    correctionsOf(holderId: string) {
      return db
        .selectFrom('attribute_corrections')
        .select(['type_code', 'message', 'created_at', 'answer', 'answered_at'])
        .where('holder_id', '=', holderId)
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
    },

    /** The open requests a source must answer, oldest first. */
    openCorrections(sourceClientId: string) {
      return db
        .selectFrom('attribute_corrections')
        .select(['id', 'holder_id', 'type_code', 'message', 'created_at'])
        .where('source_client_id', '=', sourceClientId)
        .where('answered_at', 'is', null)
        .orderBy('id')
        .limit(1000)
        .execute();
    },

    /** Open requests to sources registered under a region prefix ('' for all), for the console. */
    openCorrectionsIn(prefix: string) {
      return db
        .selectFrom('attribute_corrections as c')
        .innerJoin('clients as s', 's.id', 'c.source_client_id')
        .innerJoin('people as p', 'p.id', 'c.holder_id')
        .select([
          'c.id',
          'c.type_code',
          'c.message',
          'c.created_at',
          'c.source_client_id',
          's.region_code',
          'p.name',
          'p.id_number_masked',
        ])
        .where('c.answered_at', 'is', null)
        .where('s.region_code', 'like', `${prefix}%`)
        .orderBy('c.id')
        .limit(200)
        .execute();
    },

    /** One open request with the region of the source it went to. */
    openCorrection(id: string) {
      return db
        .selectFrom('attribute_corrections as c')
        .innerJoin('clients as s', 's.id', 'c.source_client_id')
        .select(['c.id', 'c.source_client_id', 's.region_code'])
        .where('c.id', '=', id)
        .where('c.answered_at', 'is', null)
        .executeTakeFirst();
    },

    /** The source's answer closes the request; false when it is not that source's open request. */
    async answerCorrection(id: string, sourceClientId: string, answer: string, audit: AuditEvent) {
      return withAudit(db, audit, async (trx) => {
        const result = await trx
          .updateTable('attribute_corrections')
          .set({ answer, answered_at: new Date() })
          .where('id', '=', id)
          .where('source_client_id', '=', sourceClientId)
          .where('answered_at', 'is', null)
          .executeTakeFirst();
        if (result.numUpdatedRows !== 1n) throw new AppError('attribute.correction.none', 404);
        return true;
      });
    },

    /**
     * Retention: deletes the values of a type neither published again nor withdrawn for its
     * `retention_days` (a withdrawn value counts from its withdrawal), and the answered
     * correction requests about them. Returns how many values went.
     */
    async forgetExpired(retentionDays: ReadonlyMap<string, number>, now: Date): Promise<number> {
      let deleted = 0;
      for (const [typeCode, days] of retentionDays) {
        const before = new Date(now.getTime() - days * 86_400_000);
        const result = await db
          .deleteFrom('attributes')
          .where('type_code', '=', typeCode)
          .where('updated_at', '<', before)
          .executeTakeFirst();
        await db
          .deleteFrom('attribute_corrections')
          .where('type_code', '=', typeCode)
          .where('answered_at', '<', before)
          .execute();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
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
