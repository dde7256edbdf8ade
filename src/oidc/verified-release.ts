/**
 * What a site receives of a person's verified data when the provider asks for claims: the items
 * it requested (scope or `claims` parameter) that its manifest allows and the person consented
 * to, still valid (not withdrawn, not past `valid_until`, a certificate only while `valid`), as
 * IDA elements filtered by the request; a certificate's file as a distributed claim (OIDC Core
 * 5.6.2) pointing at the certificate library with a five-minute token for that file alone.
 * Entity types (营业执照) come from the entity the person acts for (`legal_person`).
 *
 * @example
 *   const out = await release({ ctx, person, entityId, scopes, request, siteScopes });
 *   out.claims.verified_claims; // [{ verification: {…}, claims: { education: {…} } }]
 *   out.items;                  // [{ item: 'education', source: '省教育厅' }] for the ledger
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AttributesRepo } from '../attributes/repo.ts';
import {
  attributeElement,
  type Catalogue,
  type Element,
  fileClaimOf,
  IDENTITY_ITEM,
  identityElement,
  requestedItems,
  scopeOf,
  selectVerified,
  verifiedRequestOf,
} from './verified-claims.ts';

/** How long a site may use the token of a certificate's file. */
export const FILE_TOKEN_SECONDS = 300;

export interface VerifiedReleaseDeps {
  catalogue: Catalogue;
  attributes: Pick<AttributesRepo, 'heldBy'>;
  departmentOf(clientId: string): Promise<string>;
  /** The certificate library, and a signer of its access tokens; without it, no file claims. */
  library?: { url: string; sign(payload: Record<string, unknown>): Promise<string> };
}

interface Person {
  id: string;
  identityLevel: number;
  name: string;
  birthdate: string;
  gender: string;
}

export function createVerifiedRelease(deps: VerifiedReleaseDeps) {
  const { catalogue } = deps;
  return async function release(input: {
    ctx: KoaContextWithOIDC;
    person: Person;
    entityId: string | undefined;
    /** The scopes of the token in hand. */
    scopes: Set<string>;
    /**
     * The scopes of the person's grant to the site: the consent page adds an item's scope for
     * each item consented, whether the site asked by scope or by `claims` request.
     */
    granted: Set<string>;
    /** The `claims` parameter's member for this place (`id_token` or `userinfo`). */
    request: unknown;
    /** The scopes the site's manifest allows. */
    siteScopes: Set<string>;
  }) {
    const { person, scopes, ctx } = input;
    const request = verifiedRequestOf(input.request);
    const wanted = requestedItems(
      {
        scope: [...scopes].join(' '),
        claims: request ? { userinfo: { verified_claims: request } } : undefined,
      },
      catalogue,
    );
    const clientId = ctx.oidc.client?.clientId;
    // Only what the site may have (its manifest) and the person consented to (the grant).
    const types = [...wanted].filter(
      (item) => input.siteScopes.has(scopeOf(item)) && input.granted.has(scopeOf(item)),
    );
    if (!clientId || (!types.length && !wanted.has(IDENTITY_ITEM))) return { claims: {}, items: [] };
    const holders = [person.id, ...(input.entityId ? [input.entityId] : [])];
    const held = types.length ? await deps.attributes.heldBy(holders, types) : [];
    const now = Date.now();
    const current = held.filter((row) => {
      const type = catalogue.get(row.type_code);
      const holder = type?.holder === 'entity' ? input.entityId : person.id;
      const valid = !row.valid_until || row.valid_until.getTime() > now;
      const certificateOk = !type?.certificate || (row.value as { status?: unknown }).status === 'valid';
      return type && row.holder_id === holder && valid && certificateOk;
    });
    const sourceOf = new Map(
      await Promise.all(
        current.map(async (row) => [row.type_code, await deps.departmentOf(row.source_client_id)] as const),
      ),
    );
    const elements: Element[] = current.map((row) =>
      attributeElement(
        { ...row, source: sourceOf.get(row.type_code) ?? '' },
        row.holder_id === person.id ? person.identityLevel : undefined,
      ),
    );
    // The identity level's own element: profile data, released where `profile` is granted.
    const identity = wanted.has(IDENTITY_ITEM) && scopes.has('profile') ? identityElement(person) : undefined;
    const released = selectVerified(identity ? [identity, ...elements] : elements, request, now);
    const files = await fileClaims(released);
    return {
      claims: {
        ...(released.length && { verified_claims: released }),
        ...files,
      },
      // For the ledger: each item released and the department it came from.
      items: released.map((element) => {
        const item = Object.keys(element.claims).find((claim) => catalogue.has(claim)) ?? IDENTITY_ITEM;
        return { item, source: sourceOf.get(item) ?? '' };
      }),
    };

    /** `_claim_names`/`_claim_sources` for each released certificate (the provider keeps the requested ones). */
    async function fileClaims(released: Element[]) {
      const library = deps.library;
      const certificates = released.flatMap((element) =>
        Object.entries(element.claims).flatMap(([code, value]) => {
          const id = (value as { certificate_id?: unknown })?.certificate_id;
          return catalogue.get(code)?.certificate && typeof id === 'string' ? [{ code, id }] : [];
        }),
      );
      if (!library || !certificates.length) return {};
      const names: Record<string, string> = {};
      const sources: Record<string, { endpoint: string; access_token: string }> = {};
      for (const { code, id } of certificates) {
        const epoch = Math.floor(Date.now() / 1000);
        names[fileClaimOf(code)] = code;
        sources[code] = {
          endpoint: `${library.url}/certificates/${encodeURIComponent(id)}/file`,
          access_token: await library.sign({
            aud: library.url,
            sub: id,
            client_id: clientId,
            iat: epoch,
            exp: epoch + FILE_TOKEN_SECONDS,
          }),
        };
      }
      return { _claim_names: names, _claim_sources: sources };
    }
  };
}

export type VerifiedRelease = ReturnType<typeof createVerifiedRelease>;
