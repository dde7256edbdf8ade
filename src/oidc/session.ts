/**
 * Who is signed in, for our own pages (the account page, the staff page): the provider's session,
 * read from its cookie. Pages outside an authorization request never trust anything else.
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

export interface SignedIn {
  accountId: string;
  acr: string | undefined;
  amr: string[];
  /** Seconds since the epoch. */
  authTime: number;
  /** Stable for the session: what challenges and pending enrolments are bound to. */
  uid: string;
}

export function createSessionReader(provider: Provider) {
  return async (ctx: Context): Promise<SignedIn | undefined> => {
    const session = await provider.Session.get(ctx as never);
    if (!session.accountId) return undefined;
    return {
      accountId: session.accountId,
      acr: session.acr,
      amr: session.amr ?? [],
      authTime: session.authTime() ?? 0,
      uid: session.uid,
    };
  };
}

export type SessionReader = ReturnType<typeof createSessionReader>;
