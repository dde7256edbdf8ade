/**
 * A DPoP proof dated more than 60 s ahead is refused, for every site. The engine allows 300 s
 * either way and has no setting for it; RFC 9449 (11.1) leaves the window to the server, and
 * FAPI 2.0 (5.3.2.1) asks for 60 s.
 *
 * The check sits in `features.dPoP.requireNonce`, which the engine asks once for each proof,
 * inside the endpoint's own error handling and before it reads the proof's date itself: the
 * refusal is then the engine's own (400 `invalid_dpop_proof`, or 401 with a `DPoP` challenge at
 * UserInfo, with its CORS headers), wherever a proof is taken. Yitong issues no DPoP nonces, so
 * the hook's answer stays "no nonce required".
 */
import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { MAX_AHEAD_SECONDS } from './fapi.ts';

export function refuseProofDatedAhead(ctx: KoaContextWithOIDC): boolean {
  if (datedAhead(ctx.get('dpop')))
    throw new errors.InvalidDpopProof(
      `DPoP proof iat is more than ${MAX_AHEAD_SECONDS} seconds in the future`,
    );
  return false;
}

/**
 * The claims read as the engine will read them (jose). A proof that is no JWT, or has no numeric
 * `iat`, is the engine's to refuse; so is one with a nonce, since none is ever issued (an empty
 * `nonce` counts as none, as for the engine).
 */
function datedAhead(proof: string): boolean {
  try {
    const { iat, nonce } = decodeJwt(proof);
    return !nonce && typeof iat === 'number' && iat > Date.now() / 1000 + MAX_AHEAD_SECONDS;
  } catch {
    return false;
  }
}
