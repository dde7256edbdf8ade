import test from 'ava';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong } from '../helpers/yitong.ts';

test('an ES256 and an RSA key on first start, stored sealed; after a rotation and restart the new keys sign and the old ones still verify', async (t) => {
  const yitong = await startYitong('pglite');
  t.teardown(() => yitong.stop());
  const jwks = async () =>
    (await (await fetch(`${yitong.issuer}/jwks`)).json()) as { keys: Array<Record<string, string>> };

  const first = await jwks();
  t.is(first.keys.length, 2);
  const ec = first.keys.find((key) => key.kty === 'EC');
  t.like(ec, { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  t.like(
    first.keys.find((key) => key.kty === 'RSA'),
    { use: 'sig' },
  );
  t.true(
    first.keys.every((key) => key.d === undefined && key.p === undefined),
    'no private part is published',
  );

  const { db } = yitong.server.container.database;
  const rows = await db.selectFrom('signing_keys').selectAll().execute();
  t.false(
    rows.some((row) => row.private_enc.toString('latin1').includes('"d"')),
    'the private keys are encrypted at rest',
  );

  const rotated = await rotateSigningKeys(db, yitong.server.container.sealer);
  t.deepEqual(
    rotated.map((key) => key.kind),
    ['ES256', 'RSA'],
  );
  const newKid = rotated[0]?.kid;
  await yitong.restart();
  const second = await jwks();
  t.is(second.keys.length, 4, 'a new key of each kind; the old ones still verify');
  t.true(second.keys.some((key) => key.kid === ec?.kid));

  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '签名测试',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const person = newCitizen();
  await yitong.createCitizen(person);
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid' });
  const tokens = await exchangeCode(
    site,
    (await walkAuthorization(new Browser(), pending.url, person)).callbackUrl,
    pending,
  );
  t.is(decodeProtectedHeader(tokens.id_token as string).kid, newKid, 'the newest key signs');

  const discovery = (await (
    await fetch(`${yitong.issuer}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  t.deepEqual((discovery.id_token_signing_alg_values_supported as string[]).sort(), [
    'ES256',
    'PS256',
    'RS256',
  ]);
  t.deepEqual((discovery.userinfo_signing_alg_values_supported as string[]).sort(), [
    'ES256',
    'PS256',
    'RS256',
  ]);
  t.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  // `none` serves only Yitong's own account page; a departmental manifest can register only `code`.
  t.deepEqual(discovery.response_types_supported, ['code', 'none']);
});

test('/readyz is ready only with storage up and no migration pending; /healthz answers', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const ready = await fetch(`${yitong.issuer}/readyz`);
  t.is(ready.status, 200);
  t.like(await ready.json(), { status: 'ready', checks: { database: 'ok', redis: 'ok', migrations: 'ok' } });
  t.is((await fetch(`${yitong.issuer}/healthz`)).status, 200);

  await yitong.server.container.database.db
    .deleteFrom('schema_migrations')
    .where('name', '=', '0001_init.sql')
    .execute();
  const pending = await fetch(`${yitong.issuer}/readyz`);
  t.is(pending.status, 503);
  t.like(await pending.json(), { status: 'not ready', checks: { migrations: 'pending: 0001_init.sql' } });

  yitong.server.container.redis?.destroy();
  const noRedis = await fetch(`${yitong.issuer}/readyz`);
  t.is(noRedis.status, 503);
  t.like(await noRedis.json(), { checks: { redis: 'unreachable' } });
});

test('a site that asks for RS256 or PS256 gets its ID token and signed UserInfo so, verifiable with the JWKS', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const person = newCitizen();
  await yitong.createCitizen(person);
  const jwks = createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`));
  for (const alg of ['RS256', 'PS256'] as const) {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: `${alg} 网站`,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid profile',
      id_token_signed_response_alg: alg,
      userinfo_signed_response_alg: alg,
    });
    const site = await discoverSite(yitong.issuer, clientId, clientSecret);
    const pending = await authorizationRequest(site, { scope: 'openid profile' });
    const walk = await walkAuthorization(new Browser(), pending.url, person);
    const tokens = await exchangeCode(site, walk.callbackUrl, pending);
    const idToken = await jwtVerify(tokens.id_token ?? '', jwks, {
      issuer: yitong.issuer,
      audience: clientId,
    });
    t.is(idToken.protectedHeader.alg, alg);
    const userinfo = await fetch(`${yitong.issuer}/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    t.regex(userinfo.headers.get('content-type') ?? '', /^application\/jwt/);
    const signed = await jwtVerify(await userinfo.text(), jwks, {
      issuer: yitong.issuer,
      audience: clientId,
    });
    t.is(signed.protectedHeader.alg, alg);
    t.is(signed.payload.name, person.name);
  }
  // A site without a choice keeps ES256.
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '默认网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid' });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  t.is(
    decodeProtectedHeader((await exchangeCode(site, walk.callbackUrl, pending)).id_token ?? '').alg,
    'ES256',
  );
});

test('discovery and the JWKS: the same bytes each time, with an ETag (304 when it matches), caching allowed, open to every origin', async (t) => {
  const yitong = await startYitong('pglite');
  t.teardown(() => yitong.stop());
  for (const path of ['/.well-known/openid-configuration', '/jwks']) {
    const first = await fetch(`${yitong.issuer}${path}`, { headers: { origin: 'https://a.example.gov.cn' } });
    const body = await first.text();
    const etag = first.headers.get('etag') ?? '';
    t.regex(etag, /^"[\w-]+"$/, path);
    t.is(first.headers.get('cache-control'), 'public, max-age=300');
    t.is(first.headers.get('access-control-allow-origin'), 'https://a.example.gov.cn');
    const second = await fetch(`${yitong.issuer}${path}`, {
      headers: { origin: 'https://b.example.gov.cn' },
    });
    t.is(await second.text(), body, 'the same bytes');
    t.is(
      second.headers.get('access-control-allow-origin'),
      'https://b.example.gov.cn',
      'each origin its own',
    );
    t.regex(second.headers.get('content-type') ?? '', /json/);
    t.is(second.headers.get('x-content-type-options'), 'nosniff', 'the headers every response carries');
    t.is(second.headers.get('x-frame-options'), 'DENY');
    const unchanged = await fetch(`${yitong.issuer}${path}`, { headers: { 'if-none-match': etag } });
    t.is(unchanged.status, 304);
  }
  // A rotated key is a new instance: the JWKS changes, and so does its ETag.
  const before = (await fetch(`${yitong.issuer}/jwks`)).headers.get('etag');
  await rotateSigningKeys(yitong.server.container.database.db, yitong.server.container.sealer);
  await yitong.restart();
  const after = await fetch(`${yitong.issuer}/jwks`);
  t.not(after.headers.get('etag'), before);
  t.is(((await after.json()) as { keys: unknown[] }).keys.length, 4);
});
