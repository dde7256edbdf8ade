/**
 * Token signing keys, generated on first start and kept in the database with the private part
 * sealed by the data-encryption key: an EC P-256 key (ES256, what sites get unless they ask) and
 * two RSA 2048 keys, one RS256 and one PS256, for relying parties that need them (OpenID Connect
 * Discovery requires RS256). Every key is used with one algorithm, which it names (`alg`), as
 * RFC 8725 §3.1 advises: one RSA key for both PKCS #1 v1.5 and PSS signatures is not. The
 * PS256 keys are in the JWKS only while a site signs with PS256 (key-publication.ts).
 *
 * A rotation is staged: the new keys are in the JWKS at once but sign only from `signs_from`,
 * a publication delay later, so a site that caches the JWKS (and does not refetch it on an
 * unknown `kid`) has them before any token names them. Replaced keys stay in the JWKS so tokens
 * they signed still verify, until the operator retires them.
 *
 * @example
 *   const { keys, nextChangeInMs } = await loadSigningKeys(db, sealer); // generates missing keys on first start
 *   await rotateSigningKeys(db, sealer);                 // published now, signing in 24 h on every node
 *   await rotateSigningKeys(db, sealer, { delaySeconds: 0 }); // a compromised key: signing within a second
 *   await retireSigningKey(db, kid);                     // out of every node's JWKS; never the signing key
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Kysely, sql } from 'kysely';
import { appendAudit } from '../audit/repo.ts';
import { notifyChange } from '../db/changes.ts';
import type { Schema } from '../db/schema.ts';
import type { Sealer } from '../identity/crypto.ts';
import { keyPublication } from './key-publication.ts';
import { LIFETIMES } from './lifetimes.ts';

/** How long the JWKS (and discovery) may be cached: their `Cache-Control` (provider-middleware.ts). */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * How long a rotated key is published before it signs. Caches that obey `Cache-Control` have
 * it after one max-age (two behind a shared proxy); a day also covers the sites whose libraries
 * keep the JWKS for hours whatever the header says. A planned rotation loses nothing by waiting.
 */
export const PUBLICATION_DELAY_SECONDS = 24 * 60 * 60;

/**
 * How long a replaced key is still needed: its ID tokens live an hour, and a site keeps one to
 * send back as `id_token_hint` when the person signs out, up to the session's end.
 */
export const VERIFIES_FOR_SECONDS = Math.max(LIFETIMES.idToken, LIFETIMES.session, LIFETIMES.accessToken);

/** The kinds of key, each its algorithm: the row's `alg` column. */
const KINDS = ['ES256', 'RS256', 'PS256'] as const;

export type Kind = (typeof KINDS)[number];

/**
 * A key stored before each RSA key had one algorithm (the row's `alg` is `RSA`, its JWK names
 * none): the RS256 key, which also signs PS256 until a PS256 key does, and from then on names RS256.
 */
const LEGACY_RSA = 'RSA';
export type StoredKind = Kind | typeof LEGACY_RSA;
const kindOf = (alg: string): Kind => (alg === LEGACY_RSA ? 'RS256' : (alg as Kind));

/** The algorithms each kind of key signs with: what an operator reads beside a kid. */
export const ALGORITHMS: Record<StoredKind, string> = {
  ES256: 'ES256',
  RS256: 'RS256',
  PS256: 'PS256',
  [LEGACY_RSA]: 'RS256, and PS256 until a PS256 key signs',
};

async function makeKey(alg: Kind) {
  const rsa = alg !== 'ES256' && { modulusLength: 2048 };
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...rsa });
  return { ...(await exportJWK(privateKey)), alg };
}

/**
 * `next`: published, not signing yet; `signing`: the key of its kind that signs; `verifying`:
 * replaced less than VERIFIES_FOR_SECONDS ago; `retirable`: replaced before that.
 */
export type KeyState = 'next' | 'signing' | 'verifying' | 'retirable';

export interface KeyInfo {
  kid: string;
  kind: StoredKind;
  created: Date;
  signsFrom: Date;
  state: KeyState;
  /** In the JWKS (key-publication.ts). */
  published: boolean;
  /** When a newer key took over from it. */
  replacedAt?: Date;
}

type Row = { kid: string; alg: string; created_at: Date; signs_from: Date; now: Date };

/** Serialises rotations and retirements (pg_advisory_xact_lock): one stage per kind at a time. */
const KEYS_LOCK = 7243002;

/**
 * The keys without their private parts, newest signing time first: the first key of a kind that
 * has begun signing is the one that signs.
 */
function readKeys(db: Kysely<Schema>) {
  return db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'created_at', 'signs_from', sql<Date>`now()`.as('now')])
    .orderBy('signs_from', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('alg')
    .orderBy('kid');
}

/** Each key's state at the database's `now`, for rows in readKeys' order. */
function staged<R extends Row>(rows: R[]): Array<R & { state: KeyState; replacedAt?: Date }> {
  const took = new Map<Kind, Date>(); // per kind: when the key after the one at hand began signing
  return rows.map((row) => {
    if (row.signs_from > row.now) return { ...row, state: 'next' };
    const replacedAt = took.get(kindOf(row.alg));
    took.set(kindOf(row.alg), row.signs_from);
    if (!replacedAt) return { ...row, state: 'signing' };
    const recent = row.now.getTime() - replacedAt.getTime() < VERIFIES_FOR_SECONDS * 1000;
    return { ...row, state: recent ? 'verifying' : 'retirable', replacedAt };
  });
}

async function makeKeys(kinds: readonly Kind[]) {
  return Promise.all(
    kinds.map(async (kind) => {
      const jwk = await makeKey(kind);
      const kid = await calculateJwkThumbprint(jwk);
      return { kind, kid, jwk: { ...jwk, kid, use: 'sig' } };
    }),
  );
}

/**
 * Stores new keys, signing `delaySeconds` from now (the database's clock, which every node reads);
 * when that is. A key published ahead is stored to verify only (`key_ops`), so that no node signs
 * with it early, not even one running an older release; loadSigningKeys lifts that in its time.
 */
async function storeKeys(
  trx: Kysely<Schema>,
  sealer: Sealer,
  made: Awaited<ReturnType<typeof makeKeys>>,
  delaySeconds: number,
): Promise<Date> {
  const [first] = await trx
    .insertInto('signing_keys')
    .values(
      made.map(({ kind, kid, jwk }) => ({
        kid,
        alg: kind,
        private_enc: sealer.seal(JSON.stringify(delaySeconds > 0 ? { ...jwk, key_ops: ['verify'] } : jwk)),
        signs_from: sql<Date>`now() + make_interval(secs => ${delaySeconds})`,
      })),
    )
    .returning('signs_from')
    .execute();
  // Every node reloads its keys (container.ts), and again when these begin signing.
  await notifyChange(trx, { kind: 'keys' });
  return first?.signs_from ?? new Date();
}

export interface Rotation {
  /** The new keys, ES256 first. */
  added: Array<{ kind: Kind; kid: string }>;
  /** When they start signing. */
  signsFrom: Date;
  /** Keys of an earlier rotation that had not begun signing: replaced by these, never used. */
  withdrawn: string[];
}

/**
 * New keys of every kind, published at once and signing after `delaySeconds` (0: at once, for a
 * compromised key; sites that cache the JWKS and do not refetch it on an unknown kid then fail
 * until their cache expires). Keys of an earlier rotation still waiting to sign are withdrawn.
 */
export async function rotateSigningKeys(
  db: Kysely<Schema>,
  sealer: Sealer,
  { delaySeconds = PUBLICATION_DELAY_SECONDS } = {},
): Promise<Rotation> {
  const made = await makeKeys(KINDS);
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`.execute(trx);
    const withdrawn = await trx
      .deleteFrom('signing_keys')
      .where('signs_from', '>', sql<Date>`now()`)
      .returning('kid')
      .execute();
    const signsFrom = await storeKeys(trx, sealer, made, delaySeconds);
    const added = made.map(({ kind, kid }) => ({ kind, kid }));
    const kids = withdrawn.map((row) => row.kid);
    await appendAudit(trx, {
      actor: 'cli',
      action: 'keys.rotated',
      details: { added, signs_from: signsFrom.toISOString(), withdrawn: kids },
    });
    return { added, signsFrom, withdrawn: kids };
  });
}

export interface SigningKeys {
  /** Private JWKs: the signing key of each kind first (the engine signs with the first that fits), then the rest. */
  keys: JWK[];
  /** The kids kept out of the JWKS (key-publication.ts). */
  unpublished: string[];
  /** When a published key will begin signing, or a key leave the JWKS: load them again that many milliseconds from now. */
  nextChangeInMs?: number;
}

/** The kinds with no key signing or to come: what a first start (or an upgrade) makes. */
const missingKinds = (rows: Array<Row & { state: KeyState }>) =>
  KINDS.filter(
    (kind) =>
      !rows.some((row) => kindOf(row.alg) === kind && (row.state === 'signing' || row.state === 'next')),
  );

/**
 * Every stored key; generates the missing kinds. A PS256 key made beside a legacy RSA key, which
 * signs PS256 until then, is published first and signs a publication delay later, as a rotated
 * one would; the legacy key names RS256 only once the tokens it signed with PS256 are past use.
 */
export async function loadSigningKeys(db: Kysely<Schema>, sealer: Sealer): Promise<SigningKeys> {
  const read = async (from: Kysely<Schema>) => staged(await readKeys(from).select('private_enc').execute());
  const open = (row: { private_enc: Buffer }) => JSON.parse(openKey(sealer, row.private_enc)) as JWK;
  let rows = await read(db);
  // What is stored opens with this data key before anything is added: a wrong key adds nothing.
  let jwks = new Map(rows.map((row) => [row.kid, open(row)]));
  if (missingKinds(rows).length) {
    const made = await makeKeys(missingKinds(rows));
    await db.transaction().execute(async (trx) => {
      // Nodes starting together: the first makes them, the others find them made.
      await sql`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`.execute(trx);
      const fresh = await read(trx);
      const legacySigns = fresh.some((row) => row.alg === LEGACY_RSA && row.state === 'signing');
      for (const key of made.filter(({ kind }) => missingKinds(fresh).includes(kind)))
        await storeKeys(
          trx,
          sealer,
          [key],
          key.kind === 'PS256' && legacySigns ? PUBLICATION_DELAY_SECONDS : 0,
        );
    });
    rows = await read(db);
    jwks = new Map(rows.map((row) => [row.kid, open(row)]));
  }
  const { unpublished, changeInMs } = await keyPublication(db);
  const signing = rows.filter((row) => row.state === 'signing');
  const now = rows[0]?.now.getTime() ?? Date.now();
  // When a PS256 key first signed: a legacy key verifies the PS256 tokens it signed until their use is past.
  const psFrom = rows.findLast((row) => row.alg === 'PS256' && row.state !== 'next')?.signs_from.getTime();
  const legacyNamesRs256At = psFrom === undefined ? undefined : psFrom + VERIFIES_FOR_SECONDS * 1000;
  const changes = [
    ...rows.filter((row) => row.state === 'next').map((row) => row.signs_from.getTime()),
    ...(rows.some((row) => row.alg === LEGACY_RSA) && legacyNamesRs256At && legacyNamesRs256At > now
      ? [legacyNamesRs256At]
      : []),
  ];
  return {
    keys: [...signing, ...rows.filter((row) => row.state !== 'signing')].map((row) => {
      const { key_ops: _, ...jwk } = jwks.get(row.kid) as JWK;
      // A key whose time has not come only verifies (also when stored before key_ops was).
      if (row.state === 'next') return { ...jwk, key_ops: ['verify'] };
      return row.alg === LEGACY_RSA && legacyNamesRs256At !== undefined && legacyNamesRs256At <= now
        ? { ...jwk, alg: 'RS256' }
        : jwk;
    }),
    unpublished,
    ...((changes.length || changeInMs !== undefined) && {
      nextChangeInMs: Math.min(...changes.map((at) => at - now), changeInMs ?? Infinity),
    }),
  };
}

/** Every stored key with its state, the signing ones and those to come first. */
export async function listSigningKeys(db: Kysely<Schema>): Promise<KeyInfo[]> {
  const rows = staged(await readKeys(db).execute());
  const { unpublished } = await keyPublication(db);
  const order: KeyState[] = ['next', 'signing', 'verifying', 'retirable'];
  return rows
    .sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state))
    .map((row) => ({
      kid: row.kid,
      kind: row.alg as StoredKind,
      created: row.created_at,
      signsFrom: row.signs_from,
      state: row.state,
      published: !unpublished.includes(row.kid),
      ...(row.replacedAt && { replacedAt: row.replacedAt }),
    }));
}

/** How long after a key is replaced every node has surely switched (a reload is retried every 10 s). */
const SWITCH_SECONDS = 60;

/** A retirement the rules refuse; the message says what to do instead. */
export class SigningKeyRefusedError extends Error {}

/**
 * Takes a key out of the JWKS, and out of every node, for good (its private part is deleted):
 * tokens it signed stop verifying at sites that refetch the JWKS. Never the key that signs now.
 */
export async function retireSigningKey(db: Kysely<Schema>, kid: string): Promise<Omit<KeyInfo, 'published'>> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${KEYS_LOCK})`.execute(trx);
    const rows = staged(await readKeys(trx).execute());
    const key = rows.find((row) => row.kid === kid);
    if (!key)
      throw new SigningKeyRefusedError(`no signing key has the kid ${kid}; \`yitong keys list\` lists them`);
    if (key.state === 'signing')
      throw new SigningKeyRefusedError(
        `${kid} is the ${key.alg} key that signs now and cannot be retired: rotate first (\`yitong keys rotate\`, or \`yitong keys rotate --now\` when the key is compromised), then retire it once the new key signs`,
      );
    if (key.alg === LEGACY_RSA && !rows.some((row) => row.alg === 'PS256' && row.state === 'signing'))
      throw new SigningKeyRefusedError(
        `${kid} is the RSA key that still signs PS256: retire it once a PS256 key signs (\`yitong keys list\`)`,
      );
    // A node whose switch is late (its timer, or a reload retried after an outage) may still sign
    // with it: tokens that would never verify.
    const since = key.replacedAt ? (key.now.getTime() - key.replacedAt.getTime()) / 1000 : Infinity;
    if (since < SWITCH_SECONDS)
      throw new SigningKeyRefusedError(
        `${kid} stopped signing ${Math.floor(since)} s ago and a node may not have switched yet: retire it in ${Math.ceil(SWITCH_SECONDS - since)} s`,
      );
    await trx.deleteFrom('signing_keys').where('kid', '=', kid).execute();
    await appendAudit(trx, {
      actor: 'cli',
      action: 'keys.retired',
      details: { kid, kind: key.alg, state: key.state },
    });
    await notifyChange(trx, { kind: 'keys' });
    return {
      kid,
      kind: key.alg as StoredKind,
      created: key.created_at,
      signsFrom: key.signs_from,
      state: key.state,
    };
  });
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
