/**
 * Which PS256 keys the JWKS shows (keys.ts loads and lists the keys with it).
 *
 * @example
 *   const { unpublished, changeInMs } = await keyPublication(db); // kids to leave out; when to ask again
 */
import { type Kysely, sql } from 'kysely';
import type { Schema } from '../db/schema.ts';
import { LIFETIMES } from './lifetimes.ts';

/**
 * The PS256 keys out of the JWKS, and in how many ms that changes. They are in it while an enabled
 * site has tokens signed PS256, and for an ID token's lifetime after the last one stopped, so a
 * token signed just before still verifies. Otherwise no site needs them, and
 * google-oauth-java-client's IdTokenVerifier (1.34) fails on a JWKS holding any key but ES256 and
 * RS256 (googleapis/google-oauth-java-client#1113). The engine keeps them all the same, so a site
 * may choose PS256 at any time: a node loads its keys again when a site starts or stops needing
 * them (container.ts).
 * Each call records the change it finds; nodes doing so together write the same.
 */
export async function keyPublication(
  db: Kysely<Schema>,
): Promise<{ unpublished: string[]; changeInMs?: number }> {
  const needed = await db
    .selectFrom('clients')
    .select('id')
    .where(sql<boolean>`signs_ps256(clients)`) // enabled, with a signed-response field PS256 (migration 0023)
    .limit(1)
    .executeTakeFirst();
  const ps256 = db.updateTable('signing_keys').where('alg', '=', 'PS256');
  await (needed
    ? ps256
        .set({ published_until: sql`'infinity'` })
        .where(sql<boolean>`published_until IS DISTINCT FROM 'infinity'`)
    : ps256
        .set({ published_until: sql`now() + make_interval(secs => ${LIFETIMES.idToken})` })
        .where(sql<boolean>`published_until = 'infinity'`)
  ).execute();
  const rows = await db
    .selectFrom('signing_keys')
    .select([
      'kid',
      sql<boolean | null>`published_until > now()`.as('published'),
      sql<number | null>`CASE WHEN published_until > now() AND published_until < 'infinity'
        THEN (extract(epoch FROM published_until - now()) * 1000)::float8 END`.as('withdrawnInMs'),
    ])
    .where('alg', '=', 'PS256')
    .execute();
  const changes = rows.flatMap((row) => (row.withdrawnInMs === null ? [] : [row.withdrawnInMs]));
  return {
    unpublished: rows.filter((row) => !row.published).map((row) => row.kid),
    ...(changes.length && { changeInMs: Math.min(...changes) }),
  };
}
