import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { rotateSigningKey } from '../../src/oidc/keys.ts';
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

test('one ES256 key on first start, stored sealed; after a rotation and restart the new key signs and the old one still verifies', async (t) => {
  const yitong = await startYitong('pglite');
  t.teardown(() => yitong.stop());
  const jwks = async () =>
    (await (await fetch(`${yitong.issuer}/jwks`)).json()) as { keys: Array<Record<string, string>> };

  const first = await jwks();
  t.is(first.keys.length, 1);
  t.like(first.keys[0], { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  t.is(first.keys[0]?.d, undefined, 'no private part is published');

  const { db } = yitong.server.container.database;
  const [row] = await db.selectFrom('signing_keys').selectAll().execute();
  t.false(row?.private_enc.toString('latin1').includes('"d"'), 'the private key is encrypted at rest');

  const newKid = await rotateSigningKey(db, yitong.server.container.sealer);
  await yitong.restart();
  const second = await jwks();
  t.deepEqual(second.keys.map((k) => k.kid).sort(), [first.keys[0]?.kid, newKid].sort());

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
  t.deepEqual(discovery.id_token_signing_alg_values_supported, ['ES256']);
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
