/**
 * The FAPI 2.0 Security Profile for the sites whose manifest says `"profile": "fapi2"`: what the
 * engine's configuration adds to its own '2.0' profile (PAR and DPoP are FAPI2_FLAGS, manifest.ts).
 */
import { type Configuration, errors } from 'oidc-provider';
import { FAPI2_ALGS, FAPI2_FLAGS } from '../clients/manifest.ts';
import { findTextProblem, textProblem } from '../text.ts';

type Config = Required<Configuration>;

/** `features.fapi`: the engine's own FAPI 2.0 checks, for fapi2 sites only. */
export const fapiFeature: NonNullable<NonNullable<Configuration['features']>['fapi']> = {
  enabled: true,
  profile: (_ctx, client) => (client?.metadata().profile === 'fapi2' ? '2.0' : undefined),
};

/**
 * For `extraClientMetadata.validator`, which runs before the engine reads the rest: PAR and DPoP
 * for a fapi2 site however it was registered (a manifest, or dynamic registration, whose answer
 * then says so too).
 */
export function forceFapi2Flags(key: string, value: unknown, metadata: Record<string, unknown>) {
  if (key === 'profile' && value === 'fapi2') Object.assign(metadata, FAPI2_FLAGS);
}

/**
 * A client assertion, every site's: it lives at most an hour (RFC 7523, 3, leaves that to the
 * server), since a leaked one is good until it expires and its jti is remembered as long. A
 * fapi2 site's also as FAPI 2.0 says; this replaces the engine's own check for those, so it does
 * that too: `aud` is the issuer identifier itself.
 */
export const assertClientAssertion: Config['assertJwtClientAuthClaimsAndHeader'] = (ctx, claims, header) => {
  const invalid = (message: string) => new errors.InvalidClientAuth(message);
  assertLifetime(claims, 'client assertion', invalid);
  if (!ctx.oidc.isFapi('2.0')) return;
  assertFapi2Jwt(claims, header, invalid);
  if (claims.aud !== ctx.oidc.issuer)
    throw invalid('the client assertion’s aud must be the issuer identifier');
};

/** Authorization parameters that are strings in a request object too (the engine would misname the error). */
const STRING_PARAMETERS = [
  'client_id',
  'response_type',
  'response_mode',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'prompt',
  'code_challenge',
  'code_challenge_method',
  'login_hint',
  'acr_values',
  'ui_locales',
];

/**
 * A request object, every site's: its text is well-formed (stored as JSON), its parameters that
 * are strings are, it has an `exp` and lives at most an hour, since it travels in a link
 * (history, access logs) and could otherwise be replayed for ever (RFC 9101, 10). A
 * fapi2 site's also as FAPI 2.0 says; this replaces the engine's own check for those, so it does
 * that too: exp, aud and nbf, at most an hour apart.
 */
export const assertRequestObject: NonNullable<
  Config['features']['requestObjects']
>['assertJwtClaimsAndHeader'] = (ctx, claims, header) => {
  const invalid = (message: string) => new errors.InvalidRequestObject(message);
  // The engine keeps a pushed form's parameters as an unsigned object of its own.
  const what = header.alg === 'none' ? 'the pushed request' : 'the request object';
  // Its values are stored with the sign-in as JSON, which cannot hold these.
  for (const [name, value] of Object.entries(claims)) {
    const problem = textProblem(name) ?? findTextProblem(value, 32);
    if (problem) throw invalid(`${what}'s '${name}': ${problem}`);
  }
  const notText = STRING_PARAMETERS.find(
    (name) => claims[name] !== undefined && typeof claims[name] !== 'string',
  );
  if (notText) throw invalid(`the request object's '${notText}' must be a string`);
  if (claims.exp === undefined) throw invalid("the request object has no 'exp'");
  assertLifetime(claims, 'request object', invalid);
  if (!ctx.oidc.isFapi('2.0')) return;
  // One pushed earlier (PAR) was checked when it was pushed.
  if (!('PushedAuthorizationRequest' in ctx.oidc.entities)) assertFapi2Jwt(claims, header, invalid);
  for (const claim of ['aud', 'nbf'])
    if (claims[claim] === undefined) throw invalid(`the request object has no '${claim}'`);
  const span = Number(claims.exp) - Number(claims.nbf);
  if (!(span > 0 && span <= MAX_LIFETIME_SECONDS))
    throw invalid("the request object's 'exp' is not within an hour after its 'nbf'");
};

/**
 * Refresh tokens (the provider's default rule: the site is registered for them and the person
 * consented to offline_access) rotate on every use; reusing an old one revokes the grant. A
 * fapi2 site's stays the same: FAPI 2.0 (5.3.2.1) allows rotation only where a retry with the
 * previous token succeeds (a lost response must not end the grant), and its token is bound to
 * the site's own key by private_key_jwt.
 */
export const rotateRefreshToken: Config['rotateRefreshToken'] = (ctx) => !ctx.oidc.isFapi('2.0');

/**
 * How far ahead a JWT may be dated (DPoP proofs too, dpop-window.ts): FAPI 2.0 (5.3.2.1)
 * accepts 10 s and refuses more than 60 s.
 */
export const MAX_AHEAD_SECONDS = 60;

/** How long a JWT a site signs for one use may live: from its `iat`, or from now. */
const MAX_LIFETIME_SECONDS = 3600;

function assertLifetime(claims: Record<string, unknown>, what: string, invalid: (message: string) => Error) {
  const exp = Number(claims.exp);
  const now = Date.now() / 1000;
  if (
    exp > now + MAX_LIFETIME_SECONDS + MAX_AHEAD_SECONDS ||
    exp - Number(claims.iat ?? now) > MAX_LIFETIME_SECONDS
  )
    throw invalid(`the ${what}'s 'exp' is more than an hour after its 'iat' or now`);
}

/**
 * FAPI 2.0 for a JWT a fapi2 site signs: PS256, ES256 or EdDSA only (5.4.1), and `iat` not more
 * than 60 s ahead (5.3.2.1). The engine checks `iat` only where there is no `exp`; a later `nbf`
 * it refuses itself (15 s of tolerance).
 */
function assertFapi2Jwt(
  claims: Record<string, unknown>,
  header: { alg?: unknown },
  invalid: (message: string) => Error,
) {
  if (!FAPI2_ALGS.includes(String(header.alg)))
    throw invalid(`FAPI 2.0 accepts PS256, ES256 or EdDSA, not ${String(header.alg)}`);
  if (Number(claims.iat) > Date.now() / 1000 + MAX_AHEAD_SECONDS)
    throw invalid(`'iat' is more than ${MAX_AHEAD_SECONDS} seconds in the future`);
}
