/**
 * oidc-provider's artifacts in the `oidc_artifacts` table, for the embedded mode without Redis:
 * one statement per operation. Expired rows are invisible at once and deleted later by
 * `sweepExpiredArtifacts`.
 *
 * @example
 *   const provider = new Provider(issuer, { adapter: createSqlAdapter(db) });
 *   setInterval(() => sweepExpiredArtifacts(db), 60_000);
 */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import Provider, { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { Schema } from '../../db/schema.ts';
import { GRANTABLE_MODELS } from './grantable.ts';
import { noteSpent } from './request-writes.ts';

const live = (eb: ExpressionBuilder<Schema, 'oidc_artifacts'>) =>
  eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]);

/** `\u0000` as JSON.stringify writes a NUL (an odd number of backslashes before the u). */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;

export function createSqlAdapter(
  db: Kysely<Schema>,
  { currentRequest = (): object | undefined => Provider.ctx } = {},
): (model: string) => Adapter {
  return (model) => {
    async function findBy(column: 'id' | 'uid' | 'user_code', value: string) {
      // A value sent by a client, not one we issued: PostgreSQL cannot even compare a NUL.
      if (value.includes('\0')) return undefined;
      const row = await db
        .selectFrom('oidc_artifacts')
        .select(sql<AdapterPayload>`payload - 'uses'`.as('payload')) // counted for consume alone
        .where('model', '=', model)
        .where(column, '=', value)
        .where(live)
        .limit(1)
        .executeTakeFirst();
      return row?.payload as AdapterPayload | undefined;
    }

    return {
      async upsert(id, payload, expiresIn) {
        const json = JSON.stringify(payload);
        // A request's parameters are kept in the payload; jsonb cannot hold a NUL (22P05).
        if (ESCAPED_NUL.test(json)) throw new errors.InvalidRequest('a NUL character is not allowed');
        await db
          .insertInto('oidc_artifacts')
          .values({
            model,
            id,
            payload: json,
            grant_id: payload.grantId ?? null,
            uid: payload.uid ?? null,
            user_code: payload.userCode ?? null,
            expires_at:
              typeof expiresIn === 'number' ? sql<Date>`now() + make_interval(secs => ${expiresIn})` : null,
          })
          .onConflict((oc) =>
            oc.columns(['model', 'id']).doUpdateSet((eb) => ({
              payload: eb.ref('excluded.payload'),
              grant_id: eb.ref('excluded.grant_id'),
              uid: eb.ref('excluded.uid'),
              user_code: eb.ref('excluded.user_code'),
              expires_at: eb.ref('excluded.expires_at'),
            })),
          )
          .execute();
      },

      find: (id) => findBy('id', id),
      findByUid: (uid) => findBy('uid', uid),
      findByUserCode: (userCode) => findBy('user_code', userCode),

      async consume(id) {
        const now = Math.floor(Date.now() / 1000);
        // The first use is the one that matters (consuming again keeps its time); every use is
        // counted, so that one request's use is given back only while it is the only one.
        const used = await db
          .updateTable('oidc_artifacts')
          .set({
            payload: sql<string>`jsonb_set(
              jsonb_set(payload, '{consumed}', coalesce(payload->'consumed', to_jsonb(${now}::bigint))),
              '{uses}', to_jsonb(coalesce((payload->>'uses')::int, 0) + 1))`,
          })
          .where('model', '=', model)
          .where('id', '=', id)
          .where(live)
          .returning(sql<number>`(payload->>'uses')::int`.as('uses'))
          .executeTakeFirst();
        if (used?.uses === 1)
          noteSpent(currentRequest(), () =>
            db
              .updateTable('oidc_artifacts')
              .set({ payload: sql<string>`payload - 'consumed' - 'uses'` })
              .where('model', '=', model)
              .where('id', '=', id)
              .where(sql<boolean>`payload->>'uses' = '1'`)
              .execute(),
          );
      },

      async destroy(id) {
        await db.deleteFrom('oidc_artifacts').where('model', '=', model).where('id', '=', id).execute();
      },

      async revokeByGrantId(grantId) {
        await db
          .deleteFrom('oidc_artifacts')
          .where('grant_id', '=', grantId)
          .where('model', 'in', GRANTABLE_MODELS)
          .execute();
      },
    };
  };
}

/** Deletes artifacts that expired more than a minute ago; returns how many. */
export async function sweepExpiredArtifacts(db: Kysely<Schema>): Promise<number> {
  const result = await db
    .deleteFrom('oidc_artifacts')
    .where('expires_at', '<', sql<Date>`now() - interval '1 minute'`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
