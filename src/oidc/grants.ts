/**
 * The citizen's own pages, a client of the provider like any site, and the grant a sign-in
 * finds: the session's, or one rebuilt from the person's remembered consent.
 */
import { randomBytes } from 'node:crypto';
import type { ClientMetadata, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountsService } from '../accounts/service.ts';

/** The citizen's own pages sign in through the provider like any site (response type none: no tokens). */
export const ACCOUNT_CLIENT_ID = 'yitong-account';
export const ACCOUNT_CALLBACK = '/account/callback';

export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    // Never used (no grant type reaches the token endpoint); a secret is required by the auth method.
    client_secret: randomBytes(32).toString('base64url'),
    client_name: '一通个人中心',
    department: '一通',
    redirect_uris: [`${issuer}${ACCOUNT_CALLBACK}`],
    response_types: ['none'],
    grant_types: [],
    scope: 'openid',
  };
}

/**
 * The session's grant for this site, or else one rebuilt from the person's remembered consent,
 * so a later sign-in to the same site asks again only for new scopes.
 */
export async function loadGrant(ctx: KoaContextWithOIDC, accounts: Pick<AccountsService, 'findConsent'>) {
  const { client, session, provider, result } = ctx.oidc;
  if (!client || !session?.accountId) return undefined;
  const grantId =
    (result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
  if (grantId) {
    const grant = await provider.Grant.find(grantId);
    if (grant) return grant;
  }
  const scopes =
    client.clientId === ACCOUNT_CLIENT_ID
      ? ['openid']
      : await accounts.findConsent(session.accountId, client.clientId);
  if (!scopes) return undefined;
  const grant = new provider.Grant({ accountId: session.accountId, clientId: client.clientId });
  grant.addOIDCScope(scopes.join(' '));
  await grant.save();
  session.grantIdFor(client.clientId, grant.jti);
  return grant;
}
