/**
 * Token signing keys: ES256, generated on first start, kept in the database with the private
 * part sealed by the data-encryption key. The newest key signs; older ones stay in the JWKS so
 * tokens they signed still verify.
 *
 * @example
 *   const jwks = await loadSigningKeys(db, sealer); // generates the first key when there is none
 *   await rotateSigningKey(db, sealer);            // every node signs with it within a second
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { notifyChange } from '../db/changes.ts';
import type { Schema } from '../db/schema.ts';
import type { Sealer } from '../identity/crypto.ts';

export async function rotateSigningKey(db: Kysely<Schema>, sealer: Sealer): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('signing_keys')
      .values({
        kid,
        alg: 'ES256',
        private_enc: sealer.seal(JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' })),
      })
      .execute();
    // Every node reloads its keys and signs with the new one (container.ts).
    await notifyChange(trx, { kind: 'keys' });
  });
  return kid;
}

/** Private JWKs, newest first. */
export async function loadSigningKeys(db: Kysely<Schema>, sealer: Sealer): Promise<JWK[]> {
  const read = () =>
    db
      .selectFrom('signing_keys')
      .select('private_enc')
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
  let rows = await read();
  if (rows.length === 0) {
    // Two nodes starting at once may both generate one; both keys are valid and the newest signs.
    await rotateSigningKey(db, sealer);
    rows = await read();
  }
  return rows.map((row) => JSON.parse(sealer.open(row.private_enc)) as JWK);
}
