import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import type { ManifestError } from '../../src/clients/service.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('pglite');
});
test.after.always(() => yitong?.stop());

const good = {
  client_name: '不动产登记',
  department: '市自然资源局',
  region_code: '440100',
  redirect_uris: ['https://bdc.example.gov.cn/callback'],
  scope: 'openid profile',
};

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'yitong-manifests-'));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

test('add: a confidential client gets a generated secret once, stored only as a hash', async (t) => {
  const dir = dirWith({ 'bdc.json': good });
  const first = await yitong.server.container.clients.add(join(dir, 'bdc.json'));
  t.is(first.clientId, 'bdc');
  t.regex(first.generatedSecret ?? '', /^[\w-]{43}$/);
  const again = await yitong.server.container.clients.add(join(dir, 'bdc.json'));
  t.is(again.generatedSecret, undefined, 'not shown twice');
  const row = await yitong.server.container.database.db
    .selectFrom('clients')
    .selectAll()
    .where('id', '=', 'bdc')
    .executeTakeFirstOrThrow();
  t.regex(row.secret_hash ?? '', /^sha256:[0-9a-f]{64}$/);
  t.false(JSON.stringify(row).includes(first.generatedSecret as string));
});

const malformed: Array<[string, unknown, RegExp]> = [
  ['not JSON', '{ "client_name": ', /not valid JSON/],
  [
    'http redirect to a public host',
    { ...good, redirect_uris: ['http://bdc.example.gov.cn/cb'] },
    /redirect_uris\.0: must be an absolute https URL/,
  ],
  ['an unsupported scope', { ...good, scope: 'openid root' }, /scope: must list only supported scopes/],
  ['no openid scope', { ...good, scope: 'profile' }, /scope: must include openid/],
  [
    'a bad region code',
    { ...good, region_code: '999999' },
    /region_code: must be a 6-digit GB\/T 2260 division code/,
  ],
  ['a missing department', { ...good, department: undefined }, /department:/],
  ['an unknown field (typo)', { ...good, redirect_uri: 'x' }, /redirect_uri/],
  ['the implicit flow', { ...good, response_types: ['id_token'] }, /response_types\.0/],
  [
    'an unknown authentication strength',
    { ...good, default_acr_values: ['urn:other:acr'] },
    /default_acr_values\.0/,
  ],
  ['an identity level out of range', { ...good, min_identity_level: 4 }, /min_identity_level/],
  // The provider takes no public clients: say so here, not at the first sign-in.
  [
    'no client authentication',
    { ...good, token_endpoint_auth_method: 'none' },
    /token_endpoint_auth_method: .*client_secret_basic/,
  ],
  [
    'a weak given secret',
    { ...good, client_secret: 'secret' },
    /client_secret: must have at least 43 characters/,
  ],
  // The provider's own client (the citizen's pages) would shadow the site: listed, audited, never used.
  [
    'the id of the provider’s own client',
    { ...good, client_id: 'yitong-account' },
    /client_id: is reserved for the provider's own use; choose another client_id/,
  ],
];

for (const [problem, content, message] of malformed) {
  test(`sync refuses a manifest with ${problem}, naming the file and field, and applies nothing`, async (t) => {
    const dir = dirWith({ 'a-good.json': { ...good, client_name: '先到的好文件' }, 'z-bad.json': content });
    const error = await t.throwsAsync(yitong.server.container.clients.sync(dir), {
      instanceOf: AggregateError,
    });
    const [first] = (error as AggregateError).errors as ManifestError[];
    t.true(first?.file.endsWith('z-bad.json'));
    t.regex(first?.problems.join('\n') ?? '', message);
    const rows = await yitong.server.container.database.db
      .selectFrom('clients')
      .select('id')
      .where('id', 'in', ['a-good', 'z-bad'])
      .execute();
    t.deepEqual(rows, [], 'nothing applied, not even the good file');
  });
}

test('add refuses the id of the provider’s own client, given or taken from the file’s name, and writes nothing', async (t) => {
  const dir = dirWith({
    'yitong-account.json': good,
    'given.json': { ...good, client_id: 'yitong-account' },
  });
  for (const name of ['yitong-account.json', 'given.json']) {
    const error = await t.throwsAsync(yitong.server.container.clients.add(join(dir, name)));
    t.is(error?.name, 'ManifestError', name);
    t.deepEqual((error as ManifestError).fields, ['client_id'], name);
    t.regex(error?.message ?? '', /client_id: is reserved for the provider's own use/, name);
  }
  const rows = await yitong.server.container.database.db
    .selectFrom('clients')
    .select('id')
    .where('id', '=', 'yitong-account')
    .execute();
  t.deepEqual(rows, []);
});

/** Registers `manifest` (over `good`) as site `id`; a new citizen signs in there asking for `scope`. */
async function signInAt(id: string, manifest: object, scope: string, extra?: Record<string, string>) {
  const dir = dirWith({ [`${id}.json`]: { ...good, redirect_uris: [REDIRECT_URI], ...manifest } });
  const { generatedSecret } = await yitong.server.container.clients.add(join(dir, `${id}.json`));
  const site = await discoverSite(yitong.issuer, id, generatedSecret as string);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, { scope, extra });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  return {
    site,
    walk,
    secret: generatedSecret as string,
    tokens: await exchangeCode(site, walk.callbackUrl, pending),
  };
}

/** A POST whose body is sent 50 ms after its headers, as a slow client's would arrive. */
async function postWithLateBody(url: string, headers: Record<string, string>, body: string) {
  const { hostname, port, host, pathname } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const head = Object.entries({
    host,
    connection: 'close',
    'content-length': String(body.length),
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${pathname} HTTP/1.1\r\n${head}\r\n`);
  setTimeout(() => socket.write(body), 50);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  await once(socket, 'end');
  const [top = '', answer = ''] = Buffer.concat(chunks).toString().split('\r\n\r\n');
  return { status: Number(top.slice(9, 12)), body: answer };
}

test('a site gets only the scopes its manifest lists: asked in the query, the others are dropped and the granted scope reported; pushed, refused', async (t) => {
  // Apache mod_auth_openidc's default: `email` and `id_number` are not the site's.
  const { site, walk, tokens } = await signInAt('narrow', {}, 'openid profile email id_number');
  t.false(walk.consentHtml?.includes('身份证号码') ?? true, 'the consent page does not offer it');
  t.is(tokens.scope, 'openid profile', 'the token response says what was granted');
  // The same request pushed (PAR) is the site's own code: refused, so its developers see it.
  const refused = await t.throwsAsync(
    client.buildAuthorizationUrlWithPAR(site.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile id_number',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    }),
    { code: 'OAUTH_RESPONSE_BODY_ERROR' },
  );
  t.like(refused, { error: 'invalid_scope' });
});

test('a refresh asking again for a scope the site may not have gets the rest; one the site may have but was not granted is refused', async (t) => {
  const { site, secret, tokens } = await signInAt(
    'refreshing',
    { grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile phone offline_access' },
    'openid profile offline_access email',
    { prompt: 'consent' },
  );
  t.is(tokens.scope, 'openid profile offline_access');

  // As mod_auth_openidc does: its configured scope again, `email` included.
  const refreshed = await client.refreshTokenGrant(site.config, tokens.refresh_token ?? '', {
    scope: 'openid profile offline_access email',
  });
  t.is(refreshed.scope, 'openid profile offline_access');
  // The same from a client whose body comes after its headers (read whole, not where it waits).
  const late = await postWithLateBody(
    `${yitong.issuer}/token`,
    {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`refreshing:${secret}`).toString('base64')}`,
    },
    new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshed.refresh_token ?? '',
      scope: 'openid profile offline_access email',
    }).toString(),
  );
  t.is(late.status, 200, late.body);
  const again = JSON.parse(late.body);
  t.is(again.scope, 'openid profile offline_access');
  // `phone` is the site's, but the person never granted it: RFC 6749 §6 holds.
  const refused = await t.throwsAsync(
    client.refreshTokenGrant(site.config, again.refresh_token, { scope: 'openid phone' }),
    { code: 'OAUTH_RESPONSE_BODY_ERROR' },
  );
  t.like(refused, { error: 'invalid_scope' });

  // A malformed client id in the Basic header is the engine's to refuse: a 4xx, never a 500.
  const malformed = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('refreshing%ZZ:secret').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', scope: 'openid email' }),
  });
  t.is(malformed.status, 400);
  t.like(await malformed.json(), { error: 'invalid_request' });
});

test('a private_key_jwt site refreshing with only its client assertion (no client_id, as iddawc does) gets the rest of its scope too', async (t) => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const { clientId } = await yitong.addClient({
    ...good,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [jwk] },
  });
  const config = await client.discovery(
    new URL(yitong.issuer),
    clientId,
    undefined,
    client.PrivateKeyJwt({ key: pair.privateKey, kid: 'k1' }),
    { execute: [client.allowInsecureRequests] },
  );
  const site = { config, clientId };
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, {
    scope: 'openid profile offline_access',
    extra: { prompt: 'consent' },
  });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  const tokens = await exchangeCode(site, walk.callbackUrl, pending);
  const refresh = (refreshToken: string) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(`${yitong.issuer}/token`)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(pair.privateKey)
      .then((assertion) =>
        fetch(`${yitong.issuer}/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
            scope: 'openid profile offline_access email',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          }),
        }),
      );
  const refreshed = await refresh(tokens.refresh_token ?? '');
  const body = await refreshed.json();
  t.is(refreshed.status, 200, JSON.stringify(body));
  t.is(body.scope, 'openid profile offline_access');
  // A malformed assertion names no site: nothing is dropped, and the engine refuses it.
  const malformed = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
      scope: 'openid email',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: 'not.a-jwt',
    }),
  });
  t.is(malformed.status, 400);
  t.like(await malformed.json(), { error: 'invalid_request' });
});
