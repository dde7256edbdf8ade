/**
 * Department self-registration (RFC 7591 / 7592) with initial access tokens bound to a region
 * and scopes: every refusal carries the RFC error, and a registered site works and is managed.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { issueInitialAccessToken } from '../../src/oidc/registration.ts';
import { adminApi, departmentToken, selfRegistered } from '../helpers/admin.ts';
import { privateRedis } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let endpoint: string;
test.before(async () => {
  yitong = await startYitong('postgres');
  endpoint = `${yitong.issuer}${yitong.server.container.provider.pathFor('registration')}`;
});
test.after.always(() => yitong?.stop());

const issue = (regionCode = '440100', scopes = 'openid profile', days?: number) =>
  issueInitialAccessToken(
    yitong.server.container.provider,
    yitong.server.container.clientsRepo,
    { department: '广州市市场监督管理局', regionCode, scopes, days },
    'cli',
  );

const site = (extra: Record<string, unknown> = {}) => ({
  client_name: '广州市企业开办',
  redirect_uris: ['https://kb.gz.example.gov.cn/callback'],
  scope: 'openid profile',
  ...extra,
});

const register = (token: string | undefined, body: unknown) =>
  fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });

test('a department registers a site with its token: the site gets the department, the region and a secret; RFC 7592 reads and deletes it', async (t) => {
  const token = await issue();
  const created = await register(token, site({ region_code: '440106' }));
  t.is(created.status, 201);
  const body = (await created.json()) as Record<string, string>;
  t.is(body.department, '广州市市场监督管理局');
  t.is(body.region_code, '440106');
  t.is(
    body.id_token_signed_response_alg,
    'RS256',
    'Dynamic Client Registration’s default, where none is named',
  );
  t.regex(body.client_secret ?? '', /^[\w-]{43,}$/);
  const row = await yitong.server.container.database.db
    .selectFrom('clients')
    .selectAll()
    .where('id', '=', body.client_id ?? '')
    .executeTakeFirstOrThrow();
  t.regex(row.secret_hash ?? '', /^sha256:/, 'stored only as a hash');
  t.is(row.department, '广州市市场监督管理局');

  // The new site authenticates with its secret at once: a wrong secret is invalid_client, the right
  // one passes authentication (and is then refused a grant it did not register).
  const configFor = (secret: string) =>
    client.discovery(new URL(yitong.issuer), body.client_id ?? '', secret, undefined, {
      execute: [client.allowInsecureRequests],
    });
  const wrong = await t.throwsAsync(client.clientCredentialsGrant(await configFor('x'.repeat(43))));
  t.like(wrong, { error: 'invalid_client', error_description: 'client authentication failed' });
  const right = await t.throwsAsync(client.clientCredentialsGrant(await configFor(body.client_secret ?? '')));
  t.not((right as client.ResponseBodyError).error, 'invalid_client');

  const read = await fetch(body.registration_client_uri ?? '', {
    headers: { authorization: `Bearer ${body.registration_access_token}` },
  });
  t.is(read.status, 200);
  t.like(await read.json(), { client_id: body.client_id, region_code: '440106' });
  const deleted = await fetch(body.registration_client_uri ?? '', {
    method: 'DELETE',
    headers: { authorization: `Bearer ${body.registration_access_token}` },
  });
  t.is(deleted.status, 204);
  t.false(
    (
      await yitong.server.container.database.db
        .selectFrom('clients')
        .select('enabled')
        .where('id', '=', body.client_id ?? '')
        .executeTakeFirstOrThrow()
    ).enabled,
  );
});

test('without a token, with an expired or unknown one: 401 invalid_token', async (t) => {
  for (const token of [undefined, 'not-a-real-initial-access-token-0000000']) {
    const answer = await register(token, site());
    t.is(answer.status, 401, String(token));
    t.like(await answer.json(), { error: 'invalid_token' });
  }
  const expired = await issue('440100', 'openid profile', 1);
  const model = await yitong.server.container.provider.InitialAccessToken.find(expired);
  if (!model) return t.fail('no token');
  model.exp = Math.floor(Date.now() / 1000) - 10;
  await model.save();
  const late = await register(expired, site());
  t.is(late.status, 401);
  t.like(await late.json(), { error: 'invalid_token' });
});

test('a region outside the token’s, a non-https redirect URI, a scope not allowed: refused with the RFC error, nothing stored', async (t) => {
  const token = await issue('440100', 'openid profile');
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ region_code: '440304' }, 'invalid_client_metadata', /outside 440100/],
    [{ redirect_uris: ['http://kb.gz.example.gov.cn/callback'] }, 'invalid_redirect_uri', /https/],
    [
      { scope: 'openid profile id_number' },
      'invalid_client_metadata',
      /^scope id_number is not among the scopes of this token$/,
    ],
    [{ response_types: ['id_token'], grant_types: ['implicit'] }, 'invalid_client_metadata', /\S/],
    // Wrong types are refused, not replaced by the token's (a number scope took all it allows).
    [{ scope: 5 }, 'invalid_client_metadata', /^scope must be a string$/],
    [{ region_code: 440100 }, 'invalid_client_metadata', /^region_code must be a string$/],
    [
      { department: '别的部门' },
      'invalid_client_metadata',
      /^department is 广州市市场监督管理局, the department of this token/,
    ],
    // URIs that would never match as sent, or carry credentials.
    [{ redirect_uris: [' https://kb.gz.example.gov.cn/cb'] }, 'invalid_redirect_uri', /spaces/],
    [{ redirect_uris: ['https://user:pass@kb.gz.example.gov.cn/cb'] }, 'invalid_redirect_uri', /password/],
  ];
  for (const [extra, error, description] of cases) {
    const answer = await register(token, site({ client_name: '被拒绝的网站', ...extra }));
    t.is(answer.status, 400, JSON.stringify(extra));
    const body = (await answer.json()) as { error: string; error_description: string };
    t.is(body.error, error, JSON.stringify(extra));
    t.regex(body.error_description, description);
  }
  const stored = await yitong.server.container.database.db
    .selectFrom('clients')
    .select('id')
    .where(sql<string>`metadata->>'client_name'`, '=', '被拒绝的网站')
    .execute();
  t.deepEqual(stored, []);
});

test('a name that would read as another (bidirectional override, zero-width) or a body not UTF-8: refused, nothing stored or changed', async (t) => {
  const token = await issue();
  const REFUSED = 'https://refused.gz.example.gov.cn/cb';
  const count = async () =>
    Number(
      (
        await yitong.server.container.database.db
          .selectFrom('clients')
          .select((eb) => eb.fn.countAll().as('n'))
          .where(sql<string>`metadata->>'redirect_uris'`, 'like', '%refused.gz.example%')
          .executeTakeFirstOrThrow()
      ).n,
    );
  const before = await count();
  const invisibleHost = await register(
    token,
    site({ redirect_uris: ['https://kb\u200b.gz.example.gov.cn/cb'] }),
  );
  t.is(invisibleHost.status, 400);
  t.like(await invisibleHost.json(), { error: 'invalid_redirect_uri' });
  for (const client_name of [
    '\u202egnp.exe',
    '广州\u200b市企业开办',
    '税务\u2066局\u2069',
    '税务\u200f局',
    '税务\u3164局',
    '税务局\u{e0041}',
  ]) {
    const answer = await register(token, site({ client_name, redirect_uris: [REFUSED] }));
    t.is(answer.status, 400, JSON.stringify(client_name));
    t.like(await answer.json(), { error: 'invalid_client_metadata' });
  }
  const bytes = (name: Buffer) =>
    Buffer.concat([
      Buffer.from('{"client_name":"'),
      name,
      Buffer.from(`","redirect_uris":["${REFUSED}"],"scope":"openid"}`),
    ]);
  const latin1 = bytes(Buffer.from([0xb9, 0xe3, 0xd6, 0xdd])); // 广州 in GBK
  const refused = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: latin1,
  });
  t.is(refused.status, 400);
  t.deepEqual(await refused.json(), {
    error: 'invalid_client_metadata',
    error_description: 'the request body is not UTF-8: send the JSON encoded as UTF-8',
  });
  // The same endpoint as the engine routes it: a trailing slash, a fragment, any case of the type.
  const raw = (path: string, type: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(endpoint);
      const sent = request(
        { host: url.hostname, port: url.port, method: 'POST', path: `${url.pathname}${path}` },
        (answer) => {
          answer.resume();
          resolve(answer.statusCode ?? 0);
        },
      );
      sent.on('error', reject);
      sent.setHeader('content-type', type);
      sent.setHeader('authorization', `Bearer ${token}`);
      sent.end(latin1);
    });
  for (const [path, type] of [
    ['/', 'application/json'],
    ['#x', 'application/json'],
    ['', 'Application/JSON'],
    ['', 'text/plain'],
  ] as const)
    t.is(await raw(path, type), 400, `${path} ${type}`);
  t.is(await count(), before, 'nothing stored');

  // What names in Mongolian script need (a vowel separator) is no trick.
  const mongolian = await register(token, site({ client_name: 'ᠬᠥᠬᠡᠬᠣᠲᠠ\u180eᠠ', redirect_uris: [REFUSED] }));
  t.is(mongolian.status, 201);
  const created = (await (await register(token, site({ redirect_uris: [REFUSED] }))).json()) as Record<
    string,
    string
  >;
  const update = await fetch(created.registration_client_uri ?? '', {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${created.registration_access_token}`,
      'content-type': 'application/json; charset=utf-8',
    },
    body: bytes(Buffer.from([0xff, 0xfe])),
  });
  t.is(update.status, 400);
  t.like(await update.json(), { error: 'invalid_client_metadata' });
  const read = await fetch(created.registration_client_uri ?? '', {
    headers: { authorization: `Bearer ${created.registration_access_token}` },
  });
  t.like(await read.json(), { client_name: '广州市企业开办' }, 'the name as it was; the token still works');
});

test('issuing a token refuses a bad region, scopes or lifetime', async (t) => {
  await t.throwsAsync(issue('4401'), { message: 'staff.region' });
  await t.throwsAsync(issue('440100', 'profile'), { message: 'registration.scopes' });
  await t.throwsAsync(issue('440100', 'openid root'), { message: 'registration.scopes' });
  await t.throwsAsync(issue('440100', 'openid', 365), { message: 'registration.days' });
});

test('an administrator issues a token through the API for their region only; a registration with it is audited', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '数据局自动化',
    department: '政务服务数据管理局',
    region_code: '440100',
    redirect_uris: ['http://localhost:8080/callback'],
    grant_types: ['client_credentials'],
    scope: 'openid admin',
  });
  const config = await client.discovery(new URL(yitong.issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const { access_token } = await client.clientCredentialsGrant(config, { scope: 'admin' });
  const issue = (body: unknown) =>
    fetch(`${yitong.issuer}/admin/api/registration-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const issued = await issue({
    department: '天河区教育局',
    region_code: '440106',
    scopes: 'openid profile',
    days: 7,
  });
  t.is(issued.status, 201);
  const { initial_access_token, registration_endpoint } = (await issued.json()) as Record<string, string>;
  t.is(registration_endpoint, endpoint);
  t.is((await issue({ department: '福田区教育局', region_code: '440304', scopes: 'openid' })).status, 403);
  const bad = await issue({ department: '天河区教育局', region_code: '4401', scopes: 'openid' });
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error_description: string }).error_description, /region_code/);

  const created = await register(initial_access_token, site({ client_name: '天河区招生' }));
  t.is(created.status, 201);
  const { client_id } = (await created.json()) as { client_id: string };
  // Audited by the engine's event, as the answer leaves.
  const rows = await eventually('the audit row', async () => {
    const found = await yitong.server.container.database.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('subject', '=', client_id)
      .execute();
    return found.length > 0 && found;
  });
  t.like(rows, [
    { action: 'client.registered', details: { department: '天河区教育局', region_code: '440106' } },
  ]);
});

test('a site updates its registration sending its own secret (RFC 7592); a wrong secret is refused; answers never show the stored hash', async (t) => {
  const created = (await (await register(await issue(), site())).json()) as Record<string, string>;
  const update = (secret: string, token: string) =>
    fetch(created.registration_client_uri ?? '', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...site({ client_name: '广州市企业开办（新版）' }),
        client_id: created.client_id,
        client_secret: secret,
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
  const wrong = await update('x'.repeat(43), created.registration_access_token ?? '');
  t.is(wrong.status, 400);
  t.like(await wrong.json(), { error: 'invalid_request' });
  const right = await update(created.client_secret ?? '', created.registration_access_token ?? '');
  t.is(right.status, 200);
  t.not(right.headers.get('connection'), 'close', 'its body was read whole: the connection stays');
  const body = (await right.json()) as Record<string, string>;
  t.is(body.client_name, '广州市企业开办（新版）');
  t.is(body.client_secret, undefined, 'the stored hash is never handed out');
  t.is(body.id_token_signed_response_alg, 'RS256');
  // A site that names its algorithm keeps it.
  const named = await fetch(created.registration_client_uri ?? '', {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${body.registration_access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      ...site(),
      client_id: created.client_id,
      client_secret: created.client_secret,
      id_token_signed_response_alg: 'ES256',
    }),
  });
  t.is(named.status, 200);
  const renamed = (await named.json()) as Record<string, string>;
  t.is(renamed.id_token_signed_response_alg, 'ES256');
  body.registration_access_token = renamed.registration_access_token ?? '';
  const read = await fetch(created.registration_client_uri ?? '', {
    headers: { authorization: `Bearer ${body.registration_access_token}` },
  });
  t.false(JSON.stringify(await read.json()).includes('sha256:'));
  // The secret the site was given still works.
  const config = await client.discovery(
    new URL(yitong.issuer),
    created.client_id ?? '',
    created.client_secret ?? '',
    undefined,
    { execute: [client.allowInsecureRequests] },
  );
  const error = await t.throwsAsync(client.clientCredentialsGrant(config));
  t.not((error as client.ResponseBodyError).error, 'invalid_client');

  // During a rotation's grace period an update with the new secret still goes through.
  const rotated = await yitong.server.container.clients.rotateSecret(created.client_id ?? '');
  // Announced to every node, this one too, within a second (a loaded machine may take longer).
  const during = await eventually('an update with the new secret goes through', async () => {
    const answer = await update(rotated?.secret ?? '', body.registration_access_token ?? '');
    return answer.status === 200 ? answer : undefined;
  });
  t.is(
    ((await during.json()) as Record<string, string>).id_token_signed_response_alg,
    'ES256',
    'an update that leaves the algorithm out keeps the site’s',
  );
});

test('admin scopes are never given through self-registration: not in a token, not in a registration', async (t) => {
  await t.throwsAsync(issue('440100', 'openid admin'), { message: 'registration.scopes' });
  await t.throwsAsync(issue('440000', 'openid admin:read'), { message: 'registration.scopes' });
  // A token issued before this rule, listing admin: the registration is still refused.
  const legacy = await issue('440100', 'openid profile');
  const { jti } = (await yitong.server.container.provider.InitialAccessToken.find(legacy)) ?? {};
  await yitong.server.container.database.db
    .updateTable('registration_grants')
    .set({ scopes: 'openid profile admin' })
    .where('token_id', '=', jti ?? '')
    .execute();
  const answer = await register(legacy, site({ scope: 'openid admin' }));
  t.is(answer.status, 400);
  t.like(await answer.json(), { error: 'invalid_client_metadata' });
});

test('a department cannot make its site a source of verified data: publishes is the province’s grant', async (t) => {
  const answer = await register(
    await issue(),
    site({ grant_types: ['client_credentials'], publishes: ['household_registration'] }),
  );
  t.is(answer.status, 400);
  t.like(await answer.json(), { error: 'invalid_client_metadata' });
});

test('a department cannot have its site signed PS256, which puts PS256 keys in the one JWKS: the province’s choice, kept on update', async (t) => {
  const token = await issue();
  for (const field of ['id_token_signed_response_alg', 'userinfo_signed_response_alg']) {
    const answer = await register(token, site({ [field]: 'PS256' }));
    t.is(answer.status, 400, field);
    t.like(await answer.json(), {
      error: 'invalid_client_metadata',
      error_description: `${field} PS256 is set by the province, not by registration (it puts PS256 keys in the JWKS every site reads): choose ES256 or RS256`,
    });
  }
  const created = (await (await register(token, site())).json()) as Record<string, string>;
  const id = created.client_id ?? '';
  // The province chose PS256 for it (as its console or a manifest would): an update may keep it.
  await sql`UPDATE clients SET metadata = metadata || '{"id_token_signed_response_alg": "PS256"}' WHERE id = ${id}`.execute(
    yitong.server.container.database.db,
  );
  await eventually(
    'the site is read again',
    async () =>
      (await yitong.server.container.provider.Client.find(id))?.metadata().id_token_signed_response_alg ===
      'PS256',
  );
  const answer = await fetch(created.registration_client_uri ?? '', {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${created.registration_access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      ...site({ id_token_signed_response_alg: 'PS256' }),
      client_id: id,
      client_secret: created.client_secret,
    }),
  });
  t.is(answer.status, 200);
});

test('a department registers and updates only so many sites an hour: then 429 with Retry-After, nothing stored; another department is not held back', async (t) => {
  const limited = await startYitong('postgres', { RATE_LIMITS: 'site-reg:dept=3/3600' });
  t.teardown(() => limited.stop());
  const at = `${limited.issuer}${limited.server.container.provider.pathFor('registration')}`;
  const tokenFor = (department: string) =>
    issueInitialAccessToken(
      limited.server.container.provider,
      limited.server.container.clientsRepo,
      { department, regionCode: '440100', scopes: 'openid profile' },
      'cli',
    );
  const post = (token: string) =>
    fetch(at, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(site()),
    });
  const token = await tokenFor('广州市市场监督管理局');
  // Refused by Yitong's checks or by the engine's, which come after the count: none counts.
  const privateKey = { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', kid: 'k' };
  for (const malformed of [
    { scope: 5 },
    { scope: 5 },
    { redirect_uris: ['https://kb.gz.example.gov.cn/callback#'] },
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [privateKey] } },
  ]) {
    const refused = await fetch(at, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(site(malformed)),
    });
    t.is(refused.status, 400, `told what is wrong each time, and not counted: ${JSON.stringify(malformed)}`);
  }
  const created = (await (await post(token)).json()) as Record<string, string>;
  t.is((await post(token)).status, 201);
  const update = await fetch(created.registration_client_uri ?? '', {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${created.registration_access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ ...site({ client_name: '改名' }), client_id: created.client_id }),
  });
  t.is(update.status, 200, 'the third write');
  const refused = await post(token);
  t.is(refused.status, 429);
  t.like(await refused.json(), { error: 'invalid_request' });
  t.regex(refused.headers.get('retry-after') ?? '', /^\d+$/);
  const { db } = limited.server.container.database;
  t.is((await db.selectFrom('clients').select('id').execute()).length, 2, 'nothing stored');
  t.is((await post(await tokenFor('广州市税务局'))).status, 201);
});

test('Redis gone (its tokens and rate-limit counters): a registration answers 503 temporarily_unavailable and stores nothing; back when Redis is', async (t) => {
  const redis = await privateRedis((fn) => t.teardown(fn));
  const node = await startYitong('postgres', { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '800' });
  t.teardown(() => node.stop());
  const issueToken = () =>
    issueInitialAccessToken(
      node.server.container.provider,
      node.server.container.clientsRepo,
      { department: '广州市市场监督管理局', regionCode: '440100', scopes: 'openid profile' },
      'cli',
    );
  const post = (token: string) =>
    fetch(`${node.issuer}${node.server.container.provider.pathFor('registration')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(site()),
    });
  const token = await issueToken();
  await redis.stop();
  const down = await post(token);
  t.is(down.status, 503);
  t.like(await down.json(), { error: 'temporarily_unavailable' });
  const { db } = node.server.container.database;
  t.is((await db.selectFrom('clients').select('id').execute()).length, 0);
  // This Redis keeps nothing across a restart, the token included: a new one.
  await redis.start();
  const again = await eventually('Redis back', async () => issueToken().catch(() => undefined));
  t.is((await post(again)).status, 201);
});

test('Redis gone after the site was stored, before its token was: the 503 leaves no site behind, and the trail says why', async (t) => {
  const redis = await privateRedis((fn) => t.teardown(fn));
  const node = await startYitong('postgres', { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '800' });
  t.teardown(() => node.stop());
  const { provider, clientsRepo, database } = node.server.container;
  const token = await issueInitialAccessToken(
    provider,
    clientsRepo,
    { department: '广州市市场监督管理局', regionCode: '440100', scopes: 'openid profile' },
    'cli',
  );
  const { db } = database;
  const { posted } = await db.transaction().execute(async (trx) => {
    await sql`LOCK TABLE clients IN ACCESS EXCLUSIVE MODE`.execute(trx);
    const posted = fetch(`${node.issuer}${provider.pathFor('registration')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(site()),
    });
    // The site's row waits on the lock; Redis goes before the token is stored.
    await eventually('the site is being stored', async () =>
      Boolean(
        (
          await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query ILIKE '%insert into "clients"%'`.execute(db)
        ).rows[0]?.n,
      ),
    );
    await redis.stop();
    return { posted }; // answered once the lock is gone, as the transaction ends
  });
  t.is((await posted).status, 503);
  const rows = await db.selectFrom('clients').select(['id', 'enabled']).execute();
  t.deepEqual(
    rows.map((row) => row.enabled),
    [false],
    'stored, then taken out: nobody holds its secret',
  );
  const trail = await db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', rows[0]?.id ?? '')
    .execute();
  t.deepEqual(
    trail.map((row) => row.action),
    ['client.registration_undone'],
    'recorded as registered only once its answer is',
  );
});

test('an update keeps what the province set: left out it stays, sent back unchanged it passes, changed it is refused', async (t) => {
  const created = (await (await register(await issue(), site())).json()) as Record<string, string>;
  const id = created.client_id ?? '';
  // The province makes the site a source of verified data (as its console or a manifest would).
  await sql`UPDATE clients SET metadata = metadata || '{"publishes": ["household_registration"]}' WHERE id = ${id}`.execute(
    yitong.server.container.database.db,
  );
  const publishes = async () =>
    (await yitong.server.container.provider.Client.find(id))?.metadata().publishes as unknown;
  for (let tries = 0; tries < 100 && !(await publishes()); tries++) await sleep(20);
  t.deepEqual(await publishes(), ['household_registration']);

  let token = created.registration_access_token ?? '';
  const update = async (extra: Record<string, unknown>) => {
    const answer = await fetch(created.registration_client_uri ?? '', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...site(extra), client_id: id, client_secret: created.client_secret }),
    });
    const body = (await answer.json()) as Record<string, string>;
    token = body.registration_access_token ?? token;
    return { status: answer.status, body };
  };
  t.is((await update({})).status, 200);
  t.deepEqual(await publishes(), ['household_registration'], 'left out, it stays');
  t.is((await update({ publishes: ['household_registration'] })).status, 200);
  const changed = await update({ publishes: ['education'] });
  t.is(changed.status, 400);
  t.is(changed.body.error, 'invalid_client_metadata');
  t.deepEqual(await publishes(), ['household_registration']);
});

test('an administrator edits a self-registered site like any other: the engine’s stored defaults do not trip the manifest rules', async (t) => {
  const created = (await (await register(await issue(), site({ require_auth_time: true }))).json()) as {
    client_id: string;
  };
  const token = await departmentToken(yitong, '440100', 'admin');
  const changed = await adminApi(yitong, token, `/clients/${created.client_id}`, {
    method: 'PATCH',
    body: { scope: 'openid' },
  });
  t.is(changed.status, 200, JSON.stringify(await changed.clone().json()));
  t.like(await changed.json(), { client_id: created.client_id, scope: 'openid' });
  // What the site chose for itself stays.
  const loaded = await yitong.server.container.provider.Client.find(created.client_id);
  t.like(loaded?.metadata(), { require_auth_time: true, scope: 'openid' });
});

test('standard metadata: what the engine hands back is accepted, so a site can send back what it read (RFC 7592); what would let it reach elsewhere is not', async (t) => {
  const created = await register(
    await issue(),
    site({ application_type: 'web', require_auth_time: true, default_max_age: 3600 }),
  );
  t.is(created.status, 201, JSON.stringify(await created.clone().json()));
  const body = (await created.json()) as Record<string, unknown>;
  t.like(body, { application_type: 'web', require_auth_time: true, default_max_age: 3600 });
  const token = String(body.registration_access_token);
  const read = (await (
    await fetch(String(body.registration_client_uri), { headers: { authorization: `Bearer ${token}` } })
  ).json()) as Record<string, unknown>;
  // What RFC 7592 §2.2 says a client leaves out; the rest goes back as it came.
  const {
    registration_access_token: _t,
    registration_client_uri: _u,
    client_id_issued_at: _i,
    client_secret_expires_at: _e,
    ...sentBack
  } = read;
  const updated = await fetch(String(body.registration_client_uri), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...sentBack,
      client_secret: body.client_secret,
      client_name: '广州市企业开办（改名）',
    }),
  });
  t.is(updated.status, 200, JSON.stringify(await updated.clone().json()));
  t.like(await updated.json(), { client_name: '广州市企业开办（改名）', default_max_age: 3600 });
  // Refused with the reason: a wrong value, unstorable text, an address the engine would fetch
  // (sector_identifier_uri), loopback redirects on any port (native).
  for (const [extra, reason] of [
    [{ default_max_age: 'soon' }, /default_max_age/],
    [{ policy_uri: 'https://kb.gz.example.gov.cn/\u0000' }, /control|NUL|character/i],
    [
      { sector_identifier_uri: 'https://10.0.0.1/sector.json', subject_type: 'pairwise' },
      /sector_identifier_uri/,
    ],
    [{ application_type: 'native' }, /application_type/],
  ] as const) {
    const refused = await register(await issue(), site(extra));
    t.is(refused.status, 400);
    const answer = (await refused.json()) as { error: string; error_description: string };
    t.is(answer.error, 'invalid_client_metadata');
    t.regex(answer.error_description, reason);
  }
});

test('an update that fails keeps the registration access token it would have rotated: the retry works, and once rotated the old one is dead', async (t) => {
  const redis = await privateRedis((fn) => t.teardown(fn));
  const node = await startYitong('postgres', { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '800' });
  t.teardown(() => node.stop());
  const created = await selfRegistered(node, '广州市市场监督管理局', site({ scope: 'openid' }));
  const token = created.registration_access_token;
  const keys = (...patterns: string[]) =>
    execFileSync('redis-cli', [
      '-p',
      String(redis.port),
      'acl',
      'setuser',
      'default',
      'resetkeys',
      ...patterns,
    ]);
  const update = () =>
    fetch(created.registration_client_uri, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        site({ scope: 'openid', client_id: created.client_id, client_name: '广州市企业开办（新）' }),
      ),
    });
  const read = (bearer: string) =>
    fetch(created.registration_client_uri, { headers: { authorization: `Bearer ${bearer}` } });
  const { redisPrefix } = node.server.container.config;
  const tokens = `${redisPrefix}RegistrationAccessToken:{`;
  // Writes anywhere but on registration access tokens, save the site's own: its replacement is
  // refused (NOPERM, a 500; a cluster shard down would be a 503).
  keys('%R~*', `~${redisPrefix}[^R]*`, `~${tokens}${token}}`);
  const refusedNew = await update();
  t.true(refusedNew.status >= 500, `answered ${refusedNew.status}`);
  // Now every token but the site's own (unless a new one begins with its first two characters,
  // one in 4,096): the new one is stored, the old one cannot be destroyed.
  const [a, b] = token;
  keys('%R~*', `~${redisPrefix}[^R]*`, `~${tokens}[^${a}]*`, `~${tokens}${a}[^${b}]*`);
  const undestroyed = await update();
  t.is(undestroyed.status, 503, 'the old token could not be destroyed: not handed a new one');
  keys('~*');
  const retried = await update();
  t.is(retried.status, 200, 'the old token works');
  const { registration_access_token: rotated } = await retried.json();
  t.not(rotated, token);
  t.is((await read(token)).status, 401, 'the old token is dead once rotated');
  t.is((await read(rotated)).status, 200);
});
