/**
 * Token signing keys, generated on first start and kept in the database with the private part
 * sealed by the data-encryption key: an EC P-256 key (ES256, what sites get unless they ask) and
 * an RSA 2048 key (RS256 and PS256, for relying parties that need them: OpenID Connect Discovery
 * requires RS256). The newest key of each kind signs; older ones stay in the JWKS so tokens they
 * signed still verify. A rotation replaces both.
 *
 * @example
 *   const jwks = await loadSigningKeys(db, sealer); // generates the keys missing on first start
 *   await rotateSigningKeys(db, sealer);           // every node signs with the new ones within a second
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { notifyChange } from '../db/changes.ts';
import type { Schema } from '../db/schema.ts';
import type { Sealer } from '../identity/crypto.ts';

/** The kinds of key: the row's `alg` column, and how to make one. An RSA key serves RS256 and PS256. */
const KINDS = {
  ES256: async () => ({
    ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)),
    alg: 'ES256',
  }),
  RSA: async () =>
    exportJWK((await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })).privateKey),
} as const;

type Kind = keyof typeof KINDS;

/** The algorithms each kind of key signs with: what an operator reads beside a new kid. */
export const ALGORITHMS: Record<Kind, string> = { ES256: 'ES256', RSA: 'RS256, PS256' };

async function addKeys(
  db: Kysely<Schema>,
  sealer: Sealer,
  kinds: Kind[],
): Promise<Array<{ kind: Kind; kid: string }>> {
  const made = await Promise.all(
    kinds.map(async (kind) => {
      const jwk = await KINDS[kind]();
      const kid = await calculateJwkThumbprint(jwk);
      return { kind, kid, jwk: { ...jwk, kid, use: 'sig' } };
    }),
  );
  await db.transaction().execute(async (trx) => {
    for (const { kind, kid, jwk } of made)
      await trx
        .insertInto('signing_keys')
        .values({ kid, alg: kind, private_enc: sealer.seal(JSON.stringify(jwk)) })
        .execute();
    // Every node reloads its keys and signs with the new ones (container.ts).
    await notifyChange(trx, { kind: 'keys' });
  });
  return made.map(({ kind, kid }) => ({ kind, kid }));
}

/** New keys of every kind, ES256 first; each new key's kind and kid. */
export async function rotateSigningKeys(
  db: Kysely<Schema>,
  sealer: Sealer,
): Promise<Array<{ kind: Kind; kid: string }>> {
  return addKeys(db, sealer, ['ES256', 'RSA']);
}

/** Private JWKs, newest first. */
export async function loadSigningKeys(db: Kysely<Schema>, sealer: Sealer): Promise<JWK[]> {
  const read = () =>
    db
      .selectFrom('signing_keys')
      .select(['alg', 'private_enc'])
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
  let rows = await read();
  const missing = (Object.keys(KINDS) as Kind[]).filter((kind) => !rows.some((row) => row.alg === kind));
  if (missing.length) {
    // Two nodes starting at once may both generate one; both keys are valid and the newest signs.
    await addKeys(db, sealer, missing);
    rows = await read();
  }
  return rows.map((row) => JSON.parse(openKey(sealer, row.private_enc)) as JWK);
}

/** The stored signing keys were sealed with another data key than the one configured. */
export class SigningKeysUnreadableError extends Error {}

function openKey(sealer: Sealer, sealed: Buffer): string {
  try {
    return sealer.open(sealed);
  } catch (error) {
    throw new SigningKeysUnreadableError('the data key does not decrypt the stored signing keys', {
      cause: error,
    });
  }
}
