/**
 * Bearer tokens for Yitong's own APIs (the admin API): an access token the provider issued, to a
 * site for itself (client credentials) or for a person. Tokens bound to a key (DPoP, mTLS) are
 * refused here: this API does not check proofs of possession. A person's token counts only
 * while the person is active and its sign-in has not ended (a lock, "sign out everywhere").
 */
import type Provider from 'oidc-provider';

export interface BearerToken {
  clientId: string;
  /** The person the token is for; undefined for a client-credentials token. */
  accountId: string | undefined;
  scopes: Set<string>;
}

export function createTokenReader(
  provider: Provider,
  stillSignedIn: (token: object & { accountId?: string }) => Promise<boolean>,
) {
  return async (value: string): Promise<BearerToken | undefined> => {
    if (!/^[\w-]{20,200}$/.test(value)) return undefined;
    const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
    if (!token || token.isExpired || token.isSenderConstrained()) return undefined;
    if (!(await stillSignedIn(token))) return undefined;
    return {
      clientId: String(token.clientId),
      accountId: 'accountId' in token ? (token.accountId as string | undefined) : undefined,
      scopes: new Set(
        String(token.scope ?? '')
          .split(' ')
          .filter(Boolean),
      ),
    };
  };
}

export type TokenReader = ReturnType<typeof createTokenReader>;
