/**
 * A departmental site signing a person in with Yitong, step by step, with openid-client
 * (https://github.com/panva/openid-client). Node.js 24 runs this file as it is (`npx node` is the
 * project's Node 24 when the system one is older, which refuses a .ts file):
 *
 *   YITONG_ISSUER=http://localhost:3000 CLIENT_ID=… CLIENT_SECRET=… \
 *   REDIRECT_URI=<one of its redirect_uris> npx node clients/samples/node/sign-in.ts
 *
 * It prints the authorization URL: open it in a browser and sign in. The browser is then sent to
 * REDIRECT_URI (nothing needs to answer there): paste that address back. A real site does the same
 * in two routes (one redirects to the authorization URL, its callback does steps 4–6) and keeps
 * the verifier, state and nonce in the person's session in between.
 *
 * Optional: SCOPE (default `openid profile phone offline_access`, which the site's manifest must
 * list; the refresh step also needs `refresh_token` in its grant_types), POST_LOGOUT_REDIRECT_URI.
 * Prints JSON: the ID token's claims, UserInfo, the token lifetimes and the logout URL.
 */
import { createInterface } from 'node:readline/promises';
import * as client from 'openid-client';

function setting(name: string, fallback?: string): string {
  const value = process.env[name] || fallback;
  if (!value) throw new Error(`set ${name} (see the comment at the top of this file)`);
  return value;
}

const issuer = new URL(setting('YITONG_ISSUER'));
const redirectUri = setting('REDIRECT_URI');
const scope = setting('SCOPE', 'openid profile phone offline_access');

// 1. Discovery: every endpoint comes from <issuer>/.well-known/openid-configuration.
//    Plain http is accepted only for a development Yitong.
const config = await client.discovery(
  issuer,
  setting('CLIENT_ID'),
  setting('CLIENT_SECRET'),
  undefined,
  issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
);

// 2. The authorization request: PKCE is required; state defeats cross-site requests and nonce
//    ties the ID token to this request. prompt=consent: without it offline_access is dropped
//    and no refresh token is issued.
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope,
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
  ...(scope.split(' ').includes('offline_access') && { prompt: 'consent' }),
});
console.log(authorizationUrl.href);

// 3. The callback: the address the browser was sent back to, with code, state and iss.
const terminal = createInterface({ input: process.stdin, output: process.stderr });
const callbackUrl = await terminal.question('Sign in, then paste the address the browser was sent to:\n');
terminal.close();

// 4. Exchange the code. openid-client checks state, iss (RFC 9207), the PKCE verifier and the ID
//    token (ES256 signature from the JWKS, issuer, audience, nonce, expiry). An `error` in the
//    callback (access_denied, login_required …) is thrown here as an AuthorizationResponseError.
const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl.trim()), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
});
// sub, acr, amr, auth_time (and sid when the site registers backchannel_logout_session_required).
const idToken = tokens.claims();
if (!idToken) throw new Error('no ID token: was openid in SCOPE?');

// 5. UserInfo has the rest (name, phone_number …); its sub must be the ID token's.
const userinfo = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);

// 6. Refresh before the access token expires: each refresh token works once, the response
//    carries its successor (reusing an old one revokes the whole grant).
const refreshed = tokens.refresh_token
  ? await client.refreshTokenGrant(config, tokens.refresh_token)
  : undefined;

// 7. Signing out: send the browser here; Yitong asks the person, ends the session, tells every
//    site of it (back-channel logout) and returns to POST_LOGOUT_REDIRECT_URI if registered.
//    The ID token names the site and the person (an expired one will do).
const logoutUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token as string,
  state: client.randomState(),
  ...(process.env.POST_LOGOUT_REDIRECT_URI && {
    post_logout_redirect_uri: process.env.POST_LOGOUT_REDIRECT_URI,
  }),
});

console.log(
  JSON.stringify(
    {
      id_token_claims: idToken,
      userinfo,
      expires_in: tokens.expires_in,
      refreshed_expires_in: refreshed?.expires_in,
      logout_url: logoutUrl.href,
    },
    null,
    2,
  ),
);
