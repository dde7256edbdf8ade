/**
 * Who a person signing in through an upstream is here, by the rules of identity mutual trust
 * (Keycloak's automatic linking by an asserted attribute let one provider take over local
 * accounts; these rules do not):
 * - a known link (upstream, its `sub`) signs in its person, but only while the upstream still
 *   asserts that person's identity number: an upstream never signs in to an account whose number
 *   it did not assert;
 * - no link, an account with the asserted number: linked at once only when the upstream vouches
 *   at identity level 2 or more (after the manifest's cap) and the account is at level 2 or more;
 *   otherwise the person proves the account once (their password) and the link is made then;
 * - no account: one is created at the vouched level, capped by the manifest, without a password.
 * Every link made or removed is one audit row.
 *
 * @example
 *   const outcome = await federation.resolve(upstream, { sub, idNumber, name, level }, ip);
 *   // { kind: 'signed-in', personId } | { kind: 'prove', personId }
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AccountsRepo, Person } from '../accounts/repo.ts';
import { normaliseName } from '../accounts/service.ts';
import { withAudit } from '../audit/repo.ts';
import type { Schema } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { Sealer } from '../identity/crypto.ts';
import { factsOf, type IdNumber, parseIdNumber } from '../identity/id-number.ts';
import type { Upstream } from './upstreams.ts';

export interface Asserted {
  sub: string;
  idNumber: unknown;
  name: unknown;
  level: unknown;
}

export type Outcome = { kind: 'signed-in'; personId: string } | { kind: 'prove'; personId: string };

export function createFederation(deps: {
  db: Kysely<Schema>;
  sealer: Pick<Sealer, 'index' | 'seal'>;
  accountsRepo: Pick<AccountsRepo, 'insertPerson' | 'raiseIdentityLevel'>;
  findPersonByIdNumber(idNumber: IdNumber): Promise<Person | undefined>;
}) {
  const { db } = deps;

  async function link(upstreamId: string, sub: string, personId: string, ip: string) {
    await withAudit(
      db,
      {
        actor: personId,
        action: 'federation.linked',
        subject: personId,
        ip,
        details: { upstream: upstreamId },
      },
      (trx) =>
        trx
          .insertInto('upstream_links')
          .values({ upstream_id: upstreamId, upstream_sub: sub, person_id: personId })
          .onConflict((oc) => oc.columns(['upstream_id', 'upstream_sub']).doNothing())
          .execute(),
    );
  }

  return {
    /** The identity level the upstream vouches for, capped by its manifest (1 when it says nothing usable). */
    levelOf(upstream: Upstream, asserted: unknown): 1 | 2 | 3 {
      const level = Number(asserted);
      const said = level === 2 || level === 3 ? level : 1;
      return Math.min(said, upstream.max_identity_level) as 1 | 2 | 3;
    },

    async resolve(upstream: Upstream, asserted: Asserted, ip: string): Promise<Outcome> {
      const parsed = parseIdNumber(String(asserted.idNumber ?? ''));
      if (!parsed.ok || typeof asserted.name !== 'string') throw new AppError('federation.claims', 502);
      const idNumber = parsed.value;
      const level = this.levelOf(upstream, asserted.level);
      const [known, person] = await Promise.all([
        db
          .selectFrom('upstream_links')
          .select('person_id')
          .where('upstream_id', '=', upstream.id)
          .where('upstream_sub', '=', asserted.sub)
          .executeTakeFirst(),
        deps.findPersonByIdNumber(idNumber),
      ]);
      if (person && person.status !== 'active') throw new AppError('federation.account_locked', 403);
      if (known) {
        // The link holds only for the number the upstream asserts now.
        if (known.person_id !== person?.id) throw new AppError('federation.number_mismatch', 403);
        await db
          .updateTable('upstream_links')
          .set({ last_used_at: new Date() })
          .where('upstream_id', '=', upstream.id)
          .where('upstream_sub', '=', asserted.sub)
          .execute();
        return { kind: 'signed-in', personId: person.id };
      }
      if (person) {
        if (level < 2 || person.identityLevel < 2) return { kind: 'prove', personId: person.id };
        await link(upstream.id, asserted.sub, person.id, ip);
        return { kind: 'signed-in', personId: person.id };
      }
      const facts = factsOf(idNumber);
      const id = randomBytes(16).toString('base64url');
      await deps.accountsRepo.insertPerson(
        {
          id,
          idNumberHmac: deps.sealer.index(idNumber),
          idNumberEnc: deps.sealer.seal(idNumber),
          idNumberMasked: facts.masked,
          name: normaliseName(asserted.name),
          gender: facts.gender,
          birthdate: facts.birthdate,
          phone: null,
          passwordHash: null,
        },
        { actor: id, action: 'account.registered', subject: id, ip, details: { upstream: upstream.id } },
      );
      if (level > 1)
        await deps.accountsRepo.raiseIdentityLevel(id, level as 2 | 3, {
          actor: id,
          action: 'identity.vouched',
          subject: id,
          ip,
          details: { upstream: upstream.id, level },
        });
      await link(upstream.id, asserted.sub, id, ip);
      return { kind: 'signed-in', personId: id };
    },

    /** After the person proved the account (password), the link the upstream asked for. */
    link,

    /** Whose account an upstream's `sub` is linked to. */
    async personOf(upstreamId: string, sub: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('upstream_links')
        .select('person_id')
        .where('upstream_id', '=', upstreamId)
        .where('upstream_sub', '=', sub)
        .executeTakeFirst();
      return row?.person_id;
    },

    /** The person's links, for My page. */
    linksOf(personId: string) {
      return db
        .selectFrom('upstream_links')
        .select(['upstream_id', 'created_at', 'last_used_at'])
        .where('person_id', '=', personId)
        .orderBy('created_at')
        .execute();
    },

    /** Removes a link (audited); false when there was none. */
    async unlink(personId: string, upstreamId: string, ip: string): Promise<boolean> {
      return withAudit(
        db,
        {
          actor: personId,
          action: 'federation.unlinked',
          subject: personId,
          ip,
          details: { upstream: upstreamId },
        },
        async (trx) => {
          const result = await trx
            .deleteFrom('upstream_links')
            .where('person_id', '=', personId)
            .where('upstream_id', '=', upstreamId)
            .executeTakeFirst();
          if (result.numDeletedRows === 0n) throw new AppError('federation.no_link', 404);
          return true;
        },
      );
    },
  };
}

export type Federation = ReturnType<typeof createFederation>;
