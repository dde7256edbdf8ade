/**
 * Signed request objects (JAR, RFC 9101) and the FAPI 2.0 Security Profile per site, with
 * openid-client: a site signs its authorization request; a site whose manifest says
 * `"profile": "fapi2"` signs in only through PAR, with PKCE and private_key_jwt, and gets
 * DPoP-bound tokens and a refresh token that does not rotate; without PAR, or presenting its token
 * without the DPoP proof, it is refused.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { issueInitialAccessToken } from '../../src/oidc/registration.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { REDIRECT_URI, walkAuthorization } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

/** A site's ES256 key pair, its public half as a JWK (kid `site-1`) for the manifest or registration. */
async function siteKey() {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'site-1', alg: 'ES256', use: 'sig' };
  return { privateKey: pair.privateKey, jwk };
}

/** openid-client's view of a site that authenticates with `auth`. */
const siteConfig = (clientId: string, auth: client.ClientAuth) =>
  client.discovery(new URL(yitong.issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });

async function keyedSite(extra: Record<string, unknown>) {
  const { privateKey, jwk } = await siteKey();
  const { clientId } = await yitong.addClient({
    client_name: '签名请求网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [jwk] },
    ...extra,
  });
  const config = await siteConfig(clientId, client.PrivateKeyJwt({ key: privateKey, kid: 'site-1' }));
  return { config, key: privateKey };
}

const params = async (verifier: string) => ({
  redirect_uri: REDIRECT_URI,
  scope: 'openid profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  nonce: client.randomNonce(),
});

test('a signed request object (JAR) signs the person in; one signed by another key is refused', async (t) => {
  const { config, key } = await keyedSite({});
  const person = newCitizen();
  await yitong.createCitizen(person);
  const verifier = client.randomPKCECodeVerifier();
  const asked = await params(verifier);
  const url = await client.buildAuthorizationUrlWithJAR(config, asked, { key, kid: 'site-1' });
  t.truthy(url.searchParams.get('request'));
  const walk = await walkAuthorization(new Browser(), url.href, person);
  const tokens = await client.authorizationCodeGrant(config, new URL(walk.callbackUrl), {
    pkceCodeVerifier: verifier,
    expectedNonce: asked.nonce,
  });
  t.truthy(tokens.access_token);

  const other = await generateKeyPair('ES256', { extractable: true });
  const forged = await client.buildAuthorizationUrlWithJAR(config, asked, {
    key: other.privateKey,
    kid: 'site-1',
  });
  // Its redirect_uri is inside an object that does not verify, so the error is shown, not sent there.
  const refused = await new Browser().visit(forged.href, {}, REDIRECT_URI);
  t.is(refused.status, 400);
  t.false(refused.url.startsWith(REDIRECT_URI));
  t.true(refused.html.includes('invalid_request_object'));
});

test('every site’s client assertions and request objects live at most an hour; a request object without exp is refused', async (t) => {
  const { config, key } = await keyedSite({});
  const clientId = config.clientMetadata().client_id;
  const now = Math.floor(Date.now() / 1000);
  const asked = await params(client.randomPKCECodeVerifier());
  const push = async (configured: client.Configuration, parameters: Record<string, string>) =>
    client
      .buildAuthorizationUrlWithPAR(configured, parameters)
      .then(() => 'accepted')
      .catch((error: client.ResponseBodyError) => error.error);
  /** The site's client assertion with its `iat` and `exp` set, or left out where undefined. */
  const asserting = (iat: number | undefined, exp: number) =>
    siteConfig(
      clientId,
      client.PrivateKeyJwt(key, {
        [client.modifyAssertion]: (_header: object, payload: Record<string, unknown>) => {
          Object.assign(payload, { iat, exp });
        },
      }),
    );
  // An hour from its iat (Authlib's default) is accepted; a year ahead, undated or not, or a
  // day-old assertion good for a day more, is refused.
  t.is(await push(await asserting(now, now + 3600), asked), 'accepted');
  t.is(await push(await asserting(undefined, now + 365 * 86400), asked), 'invalid_client');
  t.is(await push(await asserting(now, now + 2 * 3600), asked), 'invalid_client');
  t.is(await push(await asserting(now - 86400, now + 1800), asked), 'invalid_client');
  // Each says why, so the site's developer can fix it: here an assertion sent twice (iddawc's
  // mistake). A wrong secret stays unexplained (registration.test.ts).
  const once = await siteConfig(
    clientId,
    client.PrivateKeyJwt(key, {
      [client.modifyAssertion]: (_header: object, payload: Record<string, unknown>) => {
        payload.jti = 'once';
      },
    }),
  );
  t.is(await push(once, asked), 'accepted');
  t.like(await client.buildAuthorizationUrlWithPAR(once, asked).catch((error) => error), {
    error: 'invalid_client',
    error_description: 'client authentication failed: client assertion tokens must only be used once',
  });
  // Only a site that authenticates so is told: another id, whether it names a site or not, is not.
  const { clientId: secretSite } = await yitong.addClient({
    client_name: '用密钥的网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  for (const sub of ['no-such-site', secretSite]) {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'site-1' })
      .setIssuer(sub)
      .setSubject(sub)
      .setAudience(yitong.issuer)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
    const answer = await fetch(`${yitong.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    t.like(await answer.json(), {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  }
  const tooLong = await client
    .buildAuthorizationUrlWithPAR(await asserting(now, now + 2 * 3600), asked)
    .catch((error: client.ResponseBodyError) => error.error_description);
  t.is(
    tooLong,
    "client authentication failed: the client assertion's 'exp' is more than an hour after its 'iat' or now",
  );

  const requestObject = (claims: { exp?: number; nbf?: number; nonce?: string; scope?: unknown }) => {
    const jwt = new SignJWT({ ...asked, client_id: clientId, response_type: 'code', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'site-1' })
      .setIssuer(clientId)
      .setAudience(yitong.issuer)
      .setIssuedAt(now);
    return jwt.sign(key);
  };
  t.is(await push(config, { request: await requestObject({ exp: now + 300 }) }), 'accepted');
  t.is(await push(config, { request: await requestObject({}) }), 'invalid_request_object');
  const numberScope = await client
    .buildAuthorizationUrlWithPAR(config, { request: await requestObject({ exp: now + 300, scope: 42 }) })
    .catch((error: client.ResponseBodyError) => error.error_description);
  t.is(numberScope, "the request object's 'scope' must be a string");
  const expired = await client
    .buildAuthorizationUrlWithPAR(config, { request: await requestObject({ exp: now - 600 }) })
    .catch((error: client.ResponseBodyError) => error.error_description);
  t.is(expired, 'Request Object claims are invalid: jwt expired', 'says which claim');
  const surrogate = await client
    .buildAuthorizationUrlWithPAR(config, {
      request: await requestObject({ exp: now + 300, nonce: '\ud800' }),
    })
    .catch((error: client.ResponseBodyError) => error);
  t.like(
    surrogate,
    {
      error: 'invalid_request_object',
      error_description: "the request object's 'nonce': the text is not well-formed Unicode",
    },
    'half a surrogate pair, which no store holds',
  );
  t.is(
    await push(config, { request: await requestObject({ exp: now + 365 * 86400 }) }),
    'invalid_request_object',
  );
  // Sent directly in the link as well: the error is shown, not sent to the site.
  const direct = new URL(`${yitong.issuer}/auth`);
  direct.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    request: await requestObject({ nbf: now - 365 * 86400, exp: now + 365 * 86400 }),
  }).toString();
  const refused = await new Browser().visit(direct.href, {}, REDIRECT_URI);
  t.is(refused.status, 400);
  t.true(refused.html.includes('invalid_request_object'));
});

test('a fapi2 site: PAR, PKCE, private_key_jwt and DPoP-bound tokens; without PAR or without the proof, refused', async (t) => {
  const { config } = await keyedSite({
    profile: 'fapi2',
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
  });
  const person = newCitizen();
  await yitong.createCitizen(person);
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const verifier = client.randomPKCECodeVerifier();
  const asked = { ...(await params(verifier)), scope: 'openid profile offline_access', prompt: 'consent' };

  // Straight to the authorization endpoint: refused, PAR is required.
  const direct = client.buildAuthorizationUrl(config, asked);
  const page = await new Browser().visit(direct.href, {}, REDIRECT_URI);
  t.regex(page.url.startsWith(REDIRECT_URI) ? page.url : page.html, /pushed|invalid_request/);

  const url = await client.buildAuthorizationUrlWithPAR(config, asked, { DPoP: dpop });
  const walk = await walkAuthorization(new Browser(), url.href, person);
  t.truthy(new URL(walk.callbackUrl).searchParams.get('iss'), 'iss in the authorization response');
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(walk.callbackUrl),
    { pkceCodeVerifier: verifier, expectedNonce: asked.nonce },
    undefined,
    { DPoP: dpop },
  );
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, tokens.claims()?.sub ?? '', {
    DPoP: dpop,
  });
  t.is(userinfo.name, person.name);
  // Sent as a bearer token, or with a proof of another key: refused, saying why.
  const asBearer = await fetch(`${yitong.issuer}/me`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  t.is(asBearer.status, 401);
  t.regex((await asBearer.json()).error_description, /^this access token is bound to a DPoP key/);
  t.regex(
    asBearer.headers.get('www-authenticate') ?? '',
    /error="invalid_token", error_description="this access token/,
  );
  const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  const refused = await t.throwsAsync<client.WWWAuthenticateChallengeError>(
    client.fetchUserInfo(config, tokens.access_token, tokens.claims()?.sub ?? '', { DPoP: otherKey }),
  );
  t.regex(String(refused?.cause[0]?.parameters.error_description), /bound to a DPoP key/);
  // The token alone, without its proof, is worth nothing.
  const bare = await fetch(`${yitong.issuer}/me`, {
    headers: { authorization: `DPoP ${tokens.access_token}` },
  });
  t.is(bare.status, 400);
  t.regex(JSON.stringify(await bare.json()), /DPoP/i);

  // FAPI 2.0 (5.3.2.1): no rotation, so a site that lost a refresh response retries with the
  // same token and succeeds; the grant lives on.
  const refreshToken = tokens.refresh_token ?? '';
  t.truthy(refreshToken);
  for (let attempt = 0; attempt < 2; attempt++) {
    const refreshed = await client.refreshTokenGrant(config, refreshToken, undefined, { DPoP: dpop });
    t.is(refreshed.token_type.toLowerCase(), 'dpop');
    t.is(refreshed.refresh_token ?? refreshToken, refreshToken, 'the same refresh token, not a new one');
    const again = await client.fetchUserInfo(config, refreshed.access_token, tokens.claims()?.sub ?? '', {
      DPoP: dpop,
    });
    t.is(again.name, person.name);
  }

  // A code bound at PAR (dpop_jkt) exchanged with another key's proof: refused, saying why.
  const boundVerifier = client.randomPKCECodeVerifier();
  const boundAsked = await params(boundVerifier);
  const bound = await client.buildAuthorizationUrlWithPAR(config, boundAsked, { DPoP: dpop });
  const boundWalk = await walkAuthorization(new Browser(), bound.href, person);
  const mismatch = await t.throwsAsync<client.ResponseBodyError>(
    client.authorizationCodeGrant(
      config,
      new URL(boundWalk.callbackUrl),
      { pkceCodeVerifier: boundVerifier, expectedNonce: boundAsked.nonce },
      undefined,
      { DPoP: otherKey },
    ),
  );
  t.like(mismatch, { error: 'invalid_grant' });
  t.regex(
    mismatch?.error_description ?? '',
    /another key than the one the authorization request bound \(dpop_jkt\)/,
  );
});

test('a fapi2 site registered dynamically (RFC 7591) is held to PAR and DPoP as well', async (t) => {
  const { privateKey, jwk } = await siteKey();
  const initial = await issueInitialAccessToken(
    yitong.server.container.provider,
    yitong.server.container.clientsRepo,
    { department: '测试部门', regionCode: '440100', scopes: 'openid profile' },
    'cli',
  );
  const registered = await fetch(
    `${yitong.issuer}${yitong.server.container.provider.pathFor('registration')}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${initial}` },
      body: JSON.stringify({
        client_name: '自助注册的 FAPI 网站',
        redirect_uris: [REDIRECT_URI],
        scope: 'openid profile',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        profile: 'fapi2',
      }),
    },
  );
  t.is(registered.status, 201);
  const answer = (await registered.json()) as Record<string, unknown>;
  // The registration's answer says what the site is held to (RFC 7591 §3.2.1).
  t.like(answer, { require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
  t.is(answer.id_token_signed_response_alg, 'ES256', 'not registration’s RS256: FAPI 2.0 allows none');
  const config = await siteConfig(
    String(answer.client_id),
    client.PrivateKeyJwt({ key: privateKey, kid: 'site-1' }),
  );
  const person = newCitizen();
  await yitong.createCitizen(person);
  const verifier = client.randomPKCECodeVerifier();
  const asked = await params(verifier);

  const direct = await new Browser().visit(
    client.buildAuthorizationUrl(config, asked).href,
    {},
    REDIRECT_URI,
  );
  t.regex(direct.url.startsWith(REDIRECT_URI) ? direct.url : direct.html, /pushed|invalid_request/);

  // Pushed without a proof, so the code is not bound to a key: what refuses the token request
  // below is the site's own requirement of DPoP. Its proofs are PS256 (an RSA key), as FAPI 2.0 allows.
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('PS256'));
  const url = await client.buildAuthorizationUrlWithPAR(config, asked);
  const walk = await walkAuthorization(new Browser(), url.href, person);
  const grant = (options?: client.DPoPOptions) =>
    client.authorizationCodeGrant(
      config,
      new URL(walk.callbackUrl),
      { pkceCodeVerifier: verifier, expectedNonce: asked.nonce },
      undefined,
      options,
    );
  // Without the proof the code is refused (and not used up); with it, the tokens are DPoP-bound.
  t.like(await t.throwsAsync<client.ResponseBodyError>(grant()), {
    error: 'invalid_dpop_proof',
    error_description: 'DPoP proof JWT not provided',
  });
  t.is((await grant({ DPoP: dpop })).token_type.toLowerCase(), 'dpop');

  // An update (RFC 7592) that leaves the profile out and turns PAR and DPoP off keeps all three.
  const {
    registration_access_token,
    registration_client_uri,
    client_secret_expires_at,
    client_id_issued_at,
    ...kept
  } = answer;
  const updated = await fetch(String(registration_client_uri), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${registration_access_token}` },
    body: JSON.stringify({
      ...kept,
      profile: undefined,
      require_pushed_authorization_requests: false,
      dpop_bound_access_tokens: false,
    }),
  });
  t.is(updated.status, 200);
  t.like(await updated.json(), {
    profile: 'fapi2',
    require_pushed_authorization_requests: true,
    dpop_bound_access_tokens: true,
  });
});

test('a fapi2 site’s JWTs: only PS256, ES256 or EdDSA, and none dated more than 60 s ahead', async (t) => {
  const ec = await generateKeyPair('ES256', { extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const jwk = async (key: CryptoKey, kid: string, alg: string) => ({
    ...(await exportJWK(key)),
    kid,
    alg,
    use: 'sig',
  });
  const { clientId } = await yitong.addClient({
    client_name: '高安全网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: {
      keys: [await jwk(ec.publicKey, 'site-1', 'ES256'), await jwk(rsa.publicKey, 'site-rsa', 'RS256')],
    },
    profile: 'fapi2',
  });
  const configWith = (auth: client.ClientAuth) => siteConfig(clientId, auth);
  const now = Math.floor(Date.now() / 1000);
  const ahead = {
    [client.modifyAssertion]: (_header: object, payload: Record<string, unknown>) => {
      payload.iat = now + 600;
    },
  };

  const asked = await params(client.randomPKCECodeVerifier());
  const push = async (config: client.Configuration, parameters: Record<string, string>) =>
    client
      .buildAuthorizationUrlWithPAR(config, parameters)
      .then(() => 'accepted')
      .catch((error: client.ResponseBodyError) => error.error);

  const good = await configWith(client.PrivateKeyJwt(ec.privateKey));
  t.is(await push(good, asked), 'accepted');
  // The client assertion signed RS256, or dated ten minutes ahead.
  t.is(await push(await configWith(client.PrivateKeyJwt(rsa.privateKey)), asked), 'invalid_client');
  t.is(await push(await configWith(client.PrivateKeyJwt(ec.privateKey, ahead)), asked), 'invalid_client');
  // A request object dated ten minutes ahead, or signed RS256.
  const requestObject = (key: CryptoKey, alg: string, kid: string, iat: number) =>
    new SignJWT({ ...asked, client_id: clientId, response_type: 'code' })
      .setProtectedHeader({ alg, kid, typ: 'oauth-authz-req+jwt' })
      .setIssuer(clientId)
      .setAudience(yitong.issuer)
      .setIssuedAt(iat)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .sign(key);
  t.is(await push(good, { request: await requestObject(ec.privateKey, 'ES256', 'site-1', now) }), 'accepted');
  t.is(
    await push(good, { request: await requestObject(ec.privateKey, 'ES256', 'site-1', now + 600) }),
    'invalid_request_object',
  );
  t.is(
    await push(good, { request: await requestObject(rsa.privateKey, 'RS256', 'site-rsa', now) }),
    'invalid_request_object',
  );
  // Nor does Yitong sign its ID tokens or UserInfo for it with RS256.
  for (const field of ['id_token_signed_response_alg', 'userinfo_signed_response_alg'])
    await t.throwsAsync(
      yitong.addClient({
        client_name: '高安全网站',
        department: '测试部门',
        region_code: '440100',
        redirect_uris: [REDIRECT_URI],
        scope: 'openid',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [await jwk(ec.publicKey, 'site-1', 'ES256')] },
        profile: 'fapi2',
        [field]: 'RS256',
      }),
      { message: new RegExp(`${field}.*RS256|RS256.*${field}`, 's') },
    );
});

test('a site’s jwks_uri is read up to 64 KiB: a site cannot have the provider swallow a huge answer', async (t) => {
  const { privateKey, jwk } = await siteKey();
  // The site's key among `count` others: 100 keys are ~18 KB, 1,000 are ~180 KB.
  const keySet = (count: number) =>
    JSON.stringify({
      keys: [jwk, ...Array.from({ length: count }, (_, i) => ({ ...jwk, kid: `spare-${i}` }))],
    });
  const keys = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(keySet(request.url === '/large' ? 1_000 : 100));
  }).listen(0);
  t.teardown(() => keys.close());
  await once(keys, 'listening');
  const origin = `http://localhost:${(keys.address() as { port: number }).port}`;
  const asked = await params(client.randomPKCECodeVerifier());
  const pushFrom = async (path: string) => {
    const { clientId } = await yitong.addClient({
      client_name: '远程公钥网站',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid profile',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `${origin}${path}`,
    });
    const config = await siteConfig(clientId, client.PrivateKeyJwt({ key: privateKey, kid: 'site-1' }));
    return client
      .buildAuthorizationUrlWithPAR(config, asked)
      .then(() => 'accepted')
      .catch((error: client.ResponseBodyError) => error.error);
  };
  t.true(keySet(100).length > 10_000 && keySet(1_000).length > 100_000);
  t.is(await pushFrom('/small'), 'accepted');
  t.not(await pushFrom('/large'), 'accepted');
});

test('a fapi2 manifest without private_key_jwt is refused', async (t) => {
  await t.throwsAsync(
    yitong.addClient({
      client_name: '不合规网站',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
      profile: 'fapi2',
    }),
    { message: /private_key_jwt/ },
  );
});
