/**
 * `id_token_hint`: an ID token Yitong signed, handed back by its site (RP-Initiated Logout 1.0 §2,
 * Core 3.1.2.1). Two rules on top of the engine's:
 *
 * - Any ID token Yitong signed for the site is a good hint, whatever algorithm of ours signed it.
 *   The engine checks a hint only with the site's *current* algorithm, so a site moved from ES256
 *   to RS256 could sign nobody out: mod_auth_openidc keeps the sign-in's ID token as the hint for
 *   the whole session. Still checked: one of our keys, our `iss`, the site as `aud`.
 * - A logout request whose hint cannot be verified at all (not a JWT, not ours, for no site we
 *   know, signed with a key retired since) is treated as one without a hint (§4: information that
 *   fails validation is treated as not supplied), not refused: the person is asked to confirm, as
 *   for any logout without a hint, and can sign out. The request's `post_logout_redirect_uri` is
 *   then followed only when a `client_id` beside it names the site that registered it (§3, as
 *   without a hint); otherwise the person stays on Yitong, and the page says why. A hint that
 *   verifies but names another site than `client_id` is still refused: the site's mistake to fix.
 */
import type Provider from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { SIGNING_ALGS } from '../clients/manifest.ts';

/** Where the logout page finds why the site's hint was set aside (a developer's detail). */
export const SET_ASIDE = 'yitong.unverifiedHint';

export interface SetAside {
  /** Why, for the site's developers. */
  reason: string;
  /** The request named an address to return to that, without its hint, will not be followed. */
  staysHere: boolean;
}

/** The engine's `IdToken.validate`, taking the algorithm from the token when it is one Yitong signs with. */
export function acceptEveryOwnAlgorithm(provider: Provider): void {
  const model = provider.IdToken;
  const validate = model.validate.bind(model);
  model.validate = (jwt, client) => {
    const alg = headerAlg(jwt);
    if (!alg || alg === client.idTokenSignedResponseAlg || !(SIGNING_ALGS as readonly string[]).includes(alg))
      return validate(jwt, client);
    // The engine reads only these two of the site (and its secret for HS*, which Yitong never signs with).
    return validate(jwt, { clientId: client.clientId, idTokenSignedResponseAlg: alg } as unknown as Client);
  };
}

/**
 * Mounted with `provider.use`: a logout request's hint that cannot be verified is taken out of
 * the query before the engine reads it, and the reason kept for the page.
 */
export function setAsideUnverifiableLogoutHint(provider: Provider) {
  const path = provider.pathFor('end_session');
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const query =
      ctx.method === 'GET' && ctx.path === path ? new URLSearchParams(ctx.querystring) : undefined;
    const hints = query?.getAll('id_token_hint') ?? [];
    // Given twice: the engine refuses that itself, with its reason.
    if (query && hints.length === 1) {
      const reason = await whyUnverifiable(provider, hints[0] as string);
      if (reason) {
        query.delete('id_token_hint');
        ctx.querystring = query.toString();
        const staysHere = query.has('post_logout_redirect_uri') && !query.has('client_id');
        (ctx.state as Record<string, unknown>)[SET_ASIDE] = { reason, staysHere } satisfies SetAside;
      }
    }
    await next();
  };
}

/** Why `hint` is no ID token of ours for a site we know; undefined when it is one (or storage is down). */
async function whyUnverifiable(provider: Provider, hint: string): Promise<string | undefined> {
  const aud = audienceOf(hint);
  if (aud === undefined) return 'id_token_hint could not be decoded';
  let client: Client | undefined;
  try {
    client = await provider.Client.find(aud);
  } catch {
    // Unreachable storage (or an id the engine refuses): the engine meets the same and answers.
    return undefined;
  }
  if (!client) return 'id_token_hint is for a site not registered with Yitong';
  try {
    await provider.IdToken.validate(hint, client);
    return undefined;
  } catch {
    return 'id_token_hint was not signed by Yitong for this site';
  }
}

function headerAlg(jwt: string): string | undefined {
  const header = decodePart(jwt.split('.')[0]);
  return typeof header?.alg === 'string' ? header.alg : undefined;
}

/** The token's one audience; undefined when it is not a JWT with one. */
function audienceOf(jwt: string): string | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  const payload = decodePart(parts[1]);
  return typeof payload?.aud === 'string' && payload.aud ? payload.aud : undefined;
}

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
