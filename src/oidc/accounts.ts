/**
 * What oidc-provider learns about a person: `findAccount` and the claims each scope releases.
 * `sub` is the random account id, never the identity number; the number is released only under
 * its own scope.
 */
import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import { signInEnded } from '../accounts/repo.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { purposeOf } from './purpose.ts';
import { createRecentSet } from './recent.ts';
import type { VerifiedRelease } from './verified-release.ts';

/** Scope → claims. The consent page describes each scope in plain words (messages.ts `scope.*`). */
export const SCOPE_CLAIMS = {
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  // Every ID token says how and when the person signed in (userinfo has no such claims to give),
  // and, when the site asked for the `legal_person` scope, the entity the person acts for: a site
  // needs it as much as `sub`. Released only under that scope (see `claims` below).
  openid: ['sub', 'acr', 'amr', 'auth_time', 'legal_person'],
  profile: ['name', 'gender', 'birthdate', 'identity_level'],
  phone: ['phone_number', 'phone_number_verified'],
  email: ['email', 'email_verified'],
  id_number: ['id_number'],
  legal_person: ['legal_person'],
};

const OPENID_CLAIMS = new Set<string>(SCOPE_CLAIMS.openid);
/** Claims about the sign-in itself (`null` above): only the ID token has them; userinfo has none to give. */
const SIGN_IN_CLAIMS = Object.entries(SCOPE_CLAIMS)
  .filter(([, claims]) => claims === null)
  .map(([claim]) => claim);

/** The claims these scopes may release (what a connected site can receive). */
export function claimsOf(scopes: string[]): string[] {
  const claims = scopes.flatMap((scope) => (SCOPE_CLAIMS as Record<string, string[] | null>)[scope] ?? []);
  // `legal_person` rides on openid for the ID token but is released only under its own scope.
  const hidden = [...SIGN_IN_CLAIMS, ...(scopes.includes('legal_person') ? [] : ['legal_person'])];
  return [...new Set(claims)].filter((claim) => !hidden.includes(claim));
}

/** Where a site finds a claim: the code flow's ID token carries the `openid` claims only (conformIdTokenClaims). */
export type ClaimPlace = 'id_token' | 'both' | 'userinfo';

const placeOf = (claim: string): ClaimPlace =>
  SIGN_IN_CLAIMS.includes(claim) ? 'id_token' : OPENID_CLAIMS.has(claim) ? 'both' : 'userinfo';

/**
 * Every claim a site can receive under these scopes: the scope releasing it and where it appears.
 *
 * @example
 *   claimCatalogue(['openid', 'phone']);
 *   // [{ claim: 'sub', scope: 'openid', place: 'both' }, { claim: 'acr', scope: 'openid', place: 'id_token' },
 *   //  …, { claim: 'phone_number', scope: 'phone', place: 'userinfo' }, …]
 */
export function claimCatalogue(scopes: readonly string[]) {
  return scopes.flatMap((scope) =>
    [...claimsOf([scope]), ...(scope === 'openid' ? SIGN_IN_CLAIMS : [])].map((claim) => ({
      claim,
      scope,
      place: placeOf(claim),
    })),
  );
}

/**
 * The sign-in a token came from: its time and session. An access token has no `authTime`; its
 * issue time stands in (it was issued after the sign-in, by a check like this one).
 */
export function signInOf(token: object) {
  const { authTime, iat, sessionUid } = token as { authTime?: number; iat?: number; sessionUid?: string };
  return { authTime: authTime ?? iat, uid: sessionUid };
}

/** For introspection: a token whose person is gone or locked, or whose sign-in ended, is not active. */
export function createTokenCheck(accounts: Pick<AccountsService, 'findPerson'>) {
  return async (token: object & { accountId?: string }): Promise<boolean> => {
    if (!token.accountId) return true;
    const person = await accounts.findPerson(token.accountId);
    return person?.status === 'active' && !signInEnded(person, signInOf(token));
  };
}

export function createFindAccount(
  accounts: Pick<AccountsService, 'findPerson' | 'revealIdNumber' | 'recordRelease'>,
  legalPersons: Pick<LegalPersonsService, 'currentAt'>,
  release: VerifiedRelease,
) {
  // The UserInfo releases recorded in this process, per access token and what it released (until
  // the token expires): the same token asking again for the same claims releases nothing new, so
  // the ledger keeps the first call's row and the call waits for no commit. Another node serving
  // the same token records it once more.
  const recorded = createRecentSet();
  return async (ctx: KoaContextWithOIDC, sub: string, token?: object): Promise<Account | undefined> => {
    const person = await accounts.findPerson(sub);
    if (person?.status !== 'active') return undefined;
    // A session, or a token, from before "sign out everywhere" (or a lock), or from a session
    // ended on the person's page, is worth nothing.
    const { session } = ctx.oidc;
    const signIn = token ? signInOf(token) : { authTime: session?.authTime(), uid: session?.uid };
    if (signInEnded(person, signIn)) return undefined;
    return {
      accountId: person.id,
      async claims(use, scope, requested) {
        const scopes = new Set(scope.split(' '));
        const client = ctx.oidc.client;
        const clientId = client?.clientId;
        // Looked up when released, so a revoked authorisation stops showing at once.
        const entity =
          scopes.has('legal_person') && clientId
            ? await legalPersons.currentAt(person.id, clientId)
            : undefined;
        const verified = await release({
          ctx,
          person,
          entityId: entity?.id,
          scopes,
          granted: new Set(ctx.oidc.grant?.getOIDCScope().split(' ')),
          request: requested,
          siteScopes: new Set(String(client?.scope ?? '').split(' ')),
        });
        const claims = {
          sub: person.id,
          ...(scopes.has('profile') && {
            name: person.name,
            gender: person.gender,
            birthdate: person.birthdate,
            identity_level: person.identityLevel,
          }),
          // Only a proved number: one merely typed at registration may be anyone's, even another
          // account's proved number, and a site matching people by number would be misled.
          ...(scopes.has('phone') &&
            person.phone &&
            person.phoneVerifiedAt && { phone_number: `+86${person.phone}`, phone_number_verified: true }),
          ...(scopes.has('id_number') && { id_number: accounts.revealIdNumber(person) }),
          ...(entity && {
            legal_person: {
              credit_code: entity.creditCode,
              name: entity.name,
              type: entity.type,
              status: entity.status,
              role: entity.role,
              sub: entity.id,
            },
          }),
          ...verified.claims,
        };
        if (clientId) {
          // What the site receives: the ID token carries the `openid` claims only (userinfo the
          // rest), and what the `claims` parameter asked of it.
          const asked = new Set(Object.keys(requested ?? {}));
          const released = Object.keys(claims).filter(
            (key) => !key.startsWith('_') && (use !== 'id_token' || OPENID_CLAIMS.has(key) || asked.has(key)),
          );
          const purpose = verified.items.length ? purposeOf(ctx) : undefined;
          const details = {
            client_id: clientId,
            use,
            claims: released,
            ...(verified.items.length && { items: verified.items }),
            ...(purpose && { purpose }),
          };
          const { jti, exp } = (use === 'userinfo' ? token : {}) as { jti?: string; exp?: number };
          const key = jti && exp && `${jti} ${JSON.stringify(details)}`;
          if (!key || !recorded.has(key)) {
            await accounts.recordRelease(person.id, details);
            if (key) recorded.add(key, exp * 1000);
          }
        }
        return claims;
      },
    };
  };
}
