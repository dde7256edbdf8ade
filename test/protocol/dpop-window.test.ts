/**
 * DPoP proofs, for every site (here one with a client secret, no FAPI profile): a proof dated
 * more than 60 s ahead is refused at PAR, the token endpoint and UserInfo, in the engine's own
 * answer; one 5 s ahead is accepted. Neither an empty `nonce` nor a payload that starts with a
 * byte-order mark (which jose, and so the engine, reads past) gets one through.
 */
import { createHash } from 'node:crypto';
import test from 'ava';
import { CompactSign, exportJWK } from 'jose';
import * as client from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { OFFLINE_SCOPE, REDIRECT_URI, refreshingSite, walkAuthorization } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('pglite');
});
test.after.always(() => yitong?.stop());

/** `accepted`, or the refusal's status and error (a body's, or UserInfo's WWW-Authenticate challenge's). */
const outcome = (answer: Promise<unknown>) =>
  answer.then(
    () => 'accepted',
    (error: { status?: number; error?: string; cause?: Array<{ parameters?: { error?: string } }> }) =>
      `${error.status} ${error.error ?? error.cause?.[0]?.parameters?.error}`,
  );

test('a DPoP proof dated more than 60 s ahead is refused at PAR, the token endpoint and UserInfo; 5 s ahead is accepted', async (t) => {
  const { config } = await refreshingSite(yitong);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const keys = await client.randomDPoPKeyPair('ES256');
  /** Proofs with the same key, dated `seconds` from now, with `extra` claims. */
  const dated = (seconds: number, extra: Record<string, unknown> = {}) =>
    client.getDPoPHandle(config, keys, {
      [client.modifyAssertion]: (_header: object, payload: Record<string, unknown>) => {
        Object.assign(payload, { iat: Number(payload.iat) + seconds }, extra);
      },
    });
  const verifier = client.randomPKCECodeVerifier();
  const asked = {
    redirect_uri: REDIRECT_URI,
    scope: OFFLINE_SCOPE,
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };

  t.is(
    await outcome(client.buildAuthorizationUrlWithPAR(config, asked, { DPoP: dated(120) })),
    '400 invalid_dpop_proof',
  );
  const url = await client.buildAuthorizationUrlWithPAR(config, asked, { DPoP: dated(5) });
  const walk = await walkAuthorization(new Browser(), url.href, person);
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(walk.callbackUrl),
    { pkceCodeVerifier: verifier },
    undefined,
    { DPoP: dated(5) },
  );
  t.is(tokens.token_type.toLowerCase(), 'dpop');

  const sub = tokens.claims()?.sub ?? '';
  const userinfo = (seconds: number, extra?: Record<string, unknown>) =>
    outcome(client.fetchUserInfo(config, tokens.access_token, sub, { DPoP: dated(seconds, extra) }));
  t.is(await userinfo(120), '401 invalid_dpop_proof');
  t.is(await userinfo(120, { nonce: '' }), '401 invalid_dpop_proof');
  t.is(await userinfo(5), 'accepted');

  // Made by hand: a payload that starts with a byte-order mark.
  const payload = {
    jti: client.randomState(),
    htm: 'GET',
    htu: `${yitong.issuer}/me`,
    iat: Math.floor(Date.now() / 1000) + 120,
    ath: createHash('sha256').update(tokens.access_token).digest('base64url'),
  };
  const bom = await new CompactSign(
    Buffer.concat([Buffer.from('\ufeff'), Buffer.from(JSON.stringify(payload))]),
  )
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
  const answer = await fetch(`${yitong.issuer}/me`, {
    headers: { authorization: `DPoP ${tokens.access_token}`, dpop: bom },
  });
  t.is(answer.status, 401);
  t.regex(String(answer.headers.get('www-authenticate')), /^DPoP .*more than 60 seconds in the future/);

  const refresh = (seconds: number) =>
    outcome(
      client.refreshTokenGrant(config, tokens.refresh_token ?? '', undefined, { DPoP: dated(seconds) }),
    );
  t.is(await refresh(120), '400 invalid_dpop_proof');
  t.is(await refresh(5), 'accepted');
});

test('a replayed DPoP proof is refused as invalid_dpop_proof with its reason, at the token endpoint and UserInfo', async (t) => {
  const { config } = await refreshingSite(yitong);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const keys = await client.randomDPoPKeyPair('ES256');
  /** Proofs with the same key and the same jti: each one after the first is a replay. */
  const replaying = (jti: string) =>
    client.getDPoPHandle(config, keys, {
      [client.modifyAssertion]: (_header: object, payload: Record<string, unknown>) => {
        payload.jti = jti;
      },
    });
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: OFFLINE_SCOPE,
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const walk = await walkAuthorization(new Browser(), url.href, person);
  const tokens = await client.authorizationCodeGrant(
    config,
    new URL(walk.callbackUrl),
    { pkceCodeVerifier: verifier },
    undefined,
    { DPoP: replaying('token') },
  );
  const refresh = await t.throwsAsync<client.ResponseBodyError>(
    client.refreshTokenGrant(config, tokens.refresh_token ?? '', undefined, { DPoP: replaying('token') }),
  );
  t.like(refresh, {
    status: 400,
    error: 'invalid_dpop_proof',
    error_description: 'DPoP proof JWT Replay detected',
  });

  const proof = await new CompactSign(
    Buffer.from(
      JSON.stringify({
        jti: client.randomState(),
        htm: 'GET',
        htu: `${yitong.issuer}/me`,
        iat: Math.floor(Date.now() / 1000),
        ath: createHash('sha256').update(tokens.access_token).digest('base64url'),
      }),
    ),
  )
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .sign(keys.privateKey);
  const userinfo = () =>
    fetch(`${yitong.issuer}/me`, { headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof } });
  t.is((await userinfo()).status, 200);
  const replayed = await userinfo();
  t.is(replayed.status, 401);
  t.regex(
    String(replayed.headers.get('www-authenticate')),
    /^DPoP .*error="invalid_dpop_proof", error_description="DPoP proof JWT Replay detected"/,
  );
  t.like(await replayed.json(), { error: 'invalid_dpop_proof' });
});
