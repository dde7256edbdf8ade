/**
 * A DPoP proof dated more than 60 s ahead is refused, for every site. The engine allows 300 s
 * either way and has no setting for it; RFC 9449 (11.1) leaves the window to the server, and
 * FAPI 2.0 (5.3.2.1) asks for 60 s. Only the proof's date is read here, as the engine will read
 * it (jose), before the engine verifies the proof as ever. The answer is the engine's for a bad
 * proof: 400, or 401 with a `DPoP` challenge at UserInfo, readable by a site's page like the
 * engine's own.
 */
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { MAX_AHEAD_SECONDS } from './fapi.ts';

/** The proof algorithms (the engine's default, named so the challenge can list them). */
export const DPOP_ALGS = ['ES256', 'Ed25519', 'EdDSA'] as const;

export function refuseProofsDatedAhead(provider: Provider) {
  const userinfo = provider.pathFor('userinfo');
  const paths = new Set([
    provider.pathFor('token'),
    provider.pathFor('pushed_authorization_request'),
    userinfo,
  ]);
  const description = `the DPoP proof's iat is more than ${MAX_AHEAD_SECONDS} seconds in the future`;
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const proof = ctx.get('dpop');
    const path = proof && ctx.path.replace(/(.)\/$/, '$1');
    if (!path || !paths.has(path) || !datedAhead(proof)) return next();
    const status = path === userinfo ? 401 : 400;
    if (status === 401)
      ctx.set(
        'www-authenticate',
        `DPoP realm="${provider.issuer}", error="invalid_dpop_proof", error_description="${description}", algs="${DPOP_ALGS.join(' ')}"`,
      );
    const origin = ctx.get('origin');
    if (origin)
      ctx.set({
        'access-control-allow-origin': origin,
        'access-control-expose-headers': 'WWW-Authenticate',
        vary: 'Origin',
      });
    ctx.set('cache-control', 'no-store');
    ctx.status = status;
    ctx.body = { error: 'invalid_dpop_proof', error_description: description };
  };
}

/**
 * Dated more than the window ahead. A proof that is no JWT, or has no numeric `iat`, is the
 * engine's to refuse; one with a server nonce is judged by its nonce, as the engine does.
 */
function datedAhead(proof: string): boolean {
  try {
    const { iat, nonce } = decodeJwt(proof);
    return nonce === undefined && typeof iat === 'number' && iat > Date.now() / 1000 + MAX_AHEAD_SECONDS;
  } catch {
    return false;
  }
}
