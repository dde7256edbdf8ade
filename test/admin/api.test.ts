/**
 * The admin API: its OpenAPI document validates and describes every route; callers need a
 * provider-issued token with the admin scopes; region limits hold (403, nothing changes);
 * malformed bodies get 400 naming the field.
 */

import { connect } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { exportJWK, generateKeyPair } from 'jose';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import * as helpers from '../helpers/admin.ts';
import { adminApi, searchPeople } from '../helpers/admin.ts';
import { Browser, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import type { Authenticator } from '../helpers/totp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let api: string;
test.before(async () => {
  yitong = await startYitong('postgres');
  api = `${yitong.issuer}/admin/api`;
});
test.after.always(() => yitong?.stop());

const departmentToken = (region: string, scope: string) => helpers.departmentToken(yitong, region, scope);
const call = (token: string | undefined, path: string, init: { method?: string; body?: unknown } = {}) =>
  adminApi(yitong, token, path, init);
const search = (token: string, q: string) => searchPeople(yitong, token, q);

test('the OpenAPI 3.1 document validates, and every documented route exists (401 without a token, never 404)', async (t) => {
  const response = await fetch(`${api}/openapi.json`);
  t.is(response.status, 200);
  const document = (await response.json()) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };
  const result = await new Validator().validate(document as never);
  t.true(result.valid, JSON.stringify(result.errors));
  t.is(document.openapi, '3.1.0');
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of Object.keys(methods)) {
      const concrete = path.replace('{action}', 'lock').replace(/\{\w+\}/g, 'xyz');
      const answer = await call(undefined, concrete, { method: method.toUpperCase() });
      t.is(answer.status, 401, `${method} ${path}`);
      t.regex(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
      t.like(await answer.json(), { error: 'api.unauthorized' });
    }
  }
  t.is(
    (await call('not-a-token-at-all-1234567', '/people/search', { method: 'POST', body: { q: 'x' } })).status,
    401,
  );
});

test('a department token acts within its region only; read-only tokens change nothing', async (t) => {
  const [here, there] = [newCitizen('440106'), newCitizen('440304')];
  const hereSub = await yitong.createCitizen(here);
  const thereSub = await yitong.createCitizen(there);
  const token = await departmentToken('440100', 'admin');

  const found = await search(token, here.idNumber);
  t.is(found.status, 200);
  t.like(await found.json(), {
    items: [{ id: hereSub, masked: `${here.idNumber.slice(0, 6)}********${here.idNumber.slice(-4)}` }],
  });
  t.deepEqual(await (await search(token, there.idNumber)).json(), { items: [] });
  t.is((await call(token, `/people/${thereSub}`)).status, 403);
  t.is((await call(token, `/people/${thereSub}/lock`, { method: 'POST' })).status, 403);
  t.is((await yitong.server.container.accounts.findPerson(thereSub))?.status, 'active', 'nothing changed');

  for (const action of ['constructor', '__proto__', 'toString'])
    t.is((await call(token, `/people/${hereSub}/${action}`, { method: 'POST' })).status, 404, action);
  t.is((await call(token, `/people/${hereSub}/lock`, { method: 'POST' })).status, 204);
  t.like(await (await call(token, `/people/${hereSub}`)).json(), { status: 'locked' });
  const rows = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'action'])
    .where('subject', '=', hereSub)
    .where('action', '=', 'account.locked')
    .execute();
  t.is(rows.length, 1);
  t.regex(rows[0]?.actor ?? '', /^client:/);

  const reader = await departmentToken('440000', 'admin:read');
  t.is((await call(reader, `/people/${thereSub}`)).status, 200, 'a province reader sees anyone');
  t.is((await call(reader, `/people/${hereSub}/unlock`, { method: 'POST' })).status, 403);
  const audit = await call(reader, `/audit?person=${hereSub}&action=account.`);
  t.deepEqual(
    ((await audit.json()) as { items: Array<{ action: string }> }).items.map((row) => row.action),
    ['account.locked', 'account.registered'],
  );
  const backwards = await call(reader, '/audit?from=2030-01-01&to=2020-01-01');
  t.is(backwards.status, 400);
  t.like(await backwards.json(), { error: 'admin.audit.order' });
});

test('malformed bodies get 400 naming the field, and change nothing', async (t) => {
  const token = await departmentToken('440100', 'admin');
  const code = '91440101MA5CXK7U0';
  const { creditCheckCharacter } = await import('../../src/identity/credit-code.ts');
  const creditCode = `${code}${creditCheckCharacter(code)}`;
  const representative = newCitizen('440106');
  await yitong.createCitizen(representative);
  await yitong.server.container.legalPersons.createByOperator({
    creditCode,
    name: '接口测试公司',
    representativeIdNumber: representative.idNumber,
  });
  for (const [body, field] of [
    [{ action: 'explode' }, 'action'],
    [{}, 'action'],
    [{ action: 'suspend', extra: 1 }, 'body'],
    ['{"action":', 'body'],
    [[1, 2], 'body'],
  ] as const) {
    const answer = await call(token, `/legal-persons/${creditCode}/status`, { method: 'POST', body });
    t.is(answer.status, 400, JSON.stringify(body));
    const json = (await answer.json()) as { error_description: string };
    t.regex(json.error_description, field === 'body' ? /\S/ : new RegExp(field), JSON.stringify(body));
  }
  const entity = await call(token, `/legal-persons?q=${creditCode}`);
  t.like(await entity.json(), { items: [{ creditCode, status: 'active' }] });
  const changed = await call(token, `/legal-persons/${creditCode}/status`, {
    method: 'POST',
    body: { action: 'suspend' },
  });
  t.like(await changed.json(), { creditCode, status: 'suspended' });
});

test('an administrator’s own token with the admin scope works; a citizen’s does not', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '管理工具',
    department: '政务服务数据管理局',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid admin',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  /** Signs in at the site (the authenticator app answering when asked) and returns the access token. */
  const tokenOf = async (person: { idNumber: string; password: string }, authenticator?: Authenticator) => {
    const pending = await authorizationRequest(site, { scope: 'openid admin' });
    const browser = new Browser();
    const login = await browser.visit(pending.url);
    let page = await submit(
      browser,
      login,
      '/login',
      { id_number: person.idNumber, password: person.password },
      REDIRECT_URI,
    );
    // The second-factor page: answered with the authenticator app, if the person has one.
    if (page.html.includes('/abort"') && !page.html.includes('/consent"')) {
      if (!authenticator || !page.html.includes('name="otp"')) return { secondFactor: true as const };
      page = await submit(browser, page, '/otp', { otp: await authenticator.nextCode() }, REDIRECT_URI);
    }
    if (page.html.includes('/consent"')) page = await submit(browser, page, '/consent', {}, REDIRECT_URI);
    return { token: (await exchangeCode(site, page.url, pending)).access_token };
  };
  const administrator = newCitizen('440106');
  await yitong.createCitizen(administrator);
  await yitong.server.container.admin.addAdmin(administrator.idNumber, 'admin', '440100');
  const citizen = newCitizen('440106');
  await yitong.createCitizen(citizen);
  // The admin scope is never granted on a password alone: the sign-in asks for a second factor.
  t.deepEqual(await tokenOf(citizen), { secondFactor: true }, 'told to add a second factor');
  const setup = new Browser();
  await signInTo(setup, yitong.issuer, administrator);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);
  const adminToken = await tokenOf(administrator, authenticator);
  t.is((await search(adminToken.token ?? '', citizen.idNumber)).status, 200);
  const other = newCitizen('440106');
  await yitong.createCitizen(other);
  const otherSetup = new Browser();
  await signInTo(otherSetup, yitong.issuer, other);
  const otherKey = await enrolTotp(otherSetup, yitong.issuer);
  const citizenToken = await tokenOf(other, otherKey.authenticator);
  t.is(
    (await search(citizenToken.token ?? '', administrator.idNumber)).status,
    403,
    'a citizen’s token: no admin grants',
  );
});

test('sites through the API: created from any manifest within the region (secret once), changed under the manifest rules, rotated, disabled', async (t) => {
  const token = await departmentToken('440100', 'admin');
  const create = (body: unknown) => call(token, '/clients', { method: 'POST', body });
  const site = {
    client_id: 'api-site',
    client_name: '接口登记的网站',
    department: '广州市人社局',
    region_code: '440106',
    redirect_uris: ['https://api-site.example.gov.cn/cb'],
    scope: 'openid profile',
  };
  const created = await create(site);
  t.is(created.status, 201);
  t.regex(((await created.json()) as { client_secret: string }).client_secret, /^[\w-]{43}$/);
  t.is((await create({ ...site, client_id: 'api-sz', region_code: '440304' })).status, 403);
  const bad = await create({ ...site, client_id: 'api-bad', redirect_uris: ['http://x.example.gov.cn/cb'] });
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error_description: string }).error_description, /redirect_uris\.0/);
  const missing = await create({ client_id: 'api-missing' });
  t.is(missing.status, 400);
  t.regex(((await missing.json()) as { error_description: string }).error_description, /client_name/);

  const changed = await call(token, '/clients/api-site', {
    method: 'PATCH',
    body: { scope: 'openid profile phone' },
  });
  t.like(await changed.json(), {
    client_id: 'api-site',
    scope: 'openid profile phone',
    department: '广州市人社局',
  });
  // Any manifest field, as a file would carry it.
  const full = await create({
    ...site,
    client_id: 'api-full',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
    post_logout_redirect_uris: ['https://api-site.example.gov.cn/'],
    backchannel_logout_uri: 'https://api-site.example.gov.cn/logout',
  });
  t.is(full.status, 201);
  const stored = await yitong.server.container.clientsRepo.findClient('api-full');
  t.like(stored?.metadata, {
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'],
    backchannel_logout_uri: 'https://api-site.example.gov.cn/logout',
  });
  const unknown = await create({ ...site, client_id: 'api-unknown', colour: 'red' });
  t.is(unknown.status, 400);
  t.regex(((await unknown.json()) as { error_description: string }).error_description, /colour/);
  for (const fixed of [{ department: '别的部门' }, { client_secret: 's'.repeat(43) }, {}]) {
    const refused = await call(token, '/clients/api-full', { method: 'PATCH', body: fixed });
    t.is(refused.status, 400, JSON.stringify(fixed));
  }
  const grants = await call(token, '/clients/api-full', {
    method: 'PATCH',
    body: { grant_types: ['authorization_code'], scope: 'openid profile' },
  });
  t.is(grants.status, 200);
  t.deepEqual((await yitong.server.container.clientsRepo.findClient('api-full'))?.metadata.grant_types, [
    'authorization_code',
  ]);

  const rotated = await call(token, '/clients/api-site/rotate-secret', { method: 'POST' });
  t.regex(((await rotated.json()) as { client_secret: string }).client_secret, /^[\w-]{43}$/);
  t.is((await call(token, '/clients/api-site/disable', { method: 'POST' })).status, 204);
  t.like(await (await call(token, '/clients/api-site')).json(), { enabled: false });
  const listed = (await (await call(token, '/clients')).json()) as { items: Array<{ client_id: string }> };
  t.true(listed.items.some((c) => c.client_id === 'api-site'));
  t.false(listed.items.some((c) => c.client_id === 'api-sz'));
});

test('a site signed PS256 (the operator’s manifest: it puts PS256 keys in the one JWKS) is the province’s to change, like its other grants', async (t) => {
  const { clientId } = await yitong.addClient({
    client_name: 'PS256 网站',
    department: '广州市人社局',
    region_code: '440106',
    redirect_uris: ['https://api-ps256.example.gov.cn/cb'],
    scope: 'openid',
    userinfo_signed_response_alg: 'PS256',
  });
  const patch = { method: 'PATCH', body: { scope: 'openid profile' } };
  const city = await call(await departmentToken('440100', 'admin'), `/clients/${clientId}`, patch);
  t.is(city.status, 403);
  const province = await call(await departmentToken('440000', 'admin'), `/clients/${clientId}`, patch);
  t.is(province.status, 200);
});

test('the id of the provider’s own client is refused to a province admin: 400 naming it, no site, no audit row', async (t) => {
  const token = await departmentToken('440000', 'admin');
  const answer = await call(token, '/clients', {
    method: 'POST',
    body: {
      client_id: 'yitong-account',
      client_name: 'x',
      department: 'x',
      region_code: '440106',
      redirect_uris: ['https://x.example.gov.cn/cb'],
      scope: 'openid',
    },
  });
  t.is(answer.status, 400);
  const body = (await answer.json()) as { error: string; error_description: string };
  t.is(body.error, 'admin.client.invalid');
  t.regex(
    body.error_description,
    /client_id: is reserved for the provider's own use; choose another client_id/,
  );
  const { db } = yitong.server.container.database;
  t.deepEqual(await db.selectFrom('clients').select('id').where('id', '=', 'yitong-account').execute(), []);
  t.deepEqual(
    await db.selectFrom('audit_events').select('action').where('subject', '=', 'yitong-account').execute(),
    [],
  );
});

test('a PATCH repeating the stored values writes no audit row; a change writes one naming only what changed', async (t) => {
  const token = await departmentToken('440100', 'admin');
  await yitong.addClient({
    client_id: 'api-same',
    client_name: '重复提交的网站',
    department: '广州市人社局',
    region_code: '440106',
    redirect_uris: ['https://api-same.example.gov.cn/cb'],
    scope: 'openid profile',
  });
  const patch = (body: unknown) => call(token, '/clients/api-same', { method: 'PATCH', body });
  const audited = () =>
    yitong.server.container.database.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .where('subject', '=', 'api-same')
      .execute();
  const same = await patch({
    scope: 'openid profile',
    redirect_uris: ['https://api-same.example.gov.cn/cb'],
  });
  t.is(same.status, 200);
  t.like(await same.json(), { scope: 'openid profile' });
  t.deepEqual(await audited(), []);
  const changed = await patch({
    scope: 'openid profile phone',
    redirect_uris: ['https://api-same.example.gov.cn/cb'],
  });
  t.is(changed.status, 200);
  t.deepEqual(await audited(), [
    {
      action: 'client.updated',
      details: { client_id: 'api-same', fields: ['scope'], admin_designated: false },
    },
  ]);
});

test('a fapi2 site is edited like any other: what its profile implies is not stored to trip the manifest rules', async (t) => {
  const token = await departmentToken('440100', 'admin');
  const key = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  // Created from a manifest (the CLI's way; the API's create takes plain sites only).
  await yitong.addClient({
    client_id: 'api-fapi2',
    client_name: '高安全网站',
    department: '广州市人社局',
    region_code: '440106',
    redirect_uris: ['https://api-fapi2.example.gov.cn/cb'],
    scope: 'openid profile',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...key, kid: 'k1', alg: 'ES256', use: 'sig' }] },
    profile: 'fapi2',
  });
  const changed = await call(token, '/clients/api-fapi2', {
    method: 'PATCH',
    body: { scope: 'openid profile phone' },
  });
  t.is(changed.status, 200, JSON.stringify(await changed.clone().json()));
  t.like(await changed.json(), { scope: 'openid profile phone' });
  // The engine still holds it to PAR and DPoP (test/protocol/fapi2-jar.test.ts walks them).
  const loaded = await yitong.server.container.provider.Client.find('api-fapi2');
  t.like(loaded?.metadata(), { require_pushed_authorization_requests: true, dpop_bound_access_tokens: true });
});

test('an action is a POST with no body at all, or an empty one; errors are in one language, English unless asked', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  const token = await departmentToken('440100', 'admin');
  // As curl -X POST sends it: no Content-Length, no Content-Type, no body.
  const url = new URL(`${api}/people/${sub}/lock`);
  const socket = connect(Number(url.port), url.hostname);
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
  );
  let raw = '';
  for await (const chunk of socket) raw += chunk;
  t.regex(raw, /^HTTP\/1\.1 204 /, raw.slice(0, 300));
  t.is((await call(token, `/people/${sub}/unlock`, { method: 'POST', body: {} })).status, 204);

  const bad = await call(token, '/clients', { method: 'POST', body: { client_name: 'x' } });
  const english = (await bad.json()) as { error_description: string };
  t.notRegex(english.error_description, /[\u4e00-\u9fff]/, 'English throughout');
  const zh = await fetch(`${api}/clients`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'accept-language': 'zh-CN',
    },
    body: '{"client_name":"x"}',
  });
  t.regex(((await zh.json()) as { error_description: string }).error_description, /[\u4e00-\u9fff]/);
});

test('the catalogue of verified data types, for any administrator’s token', async (t) => {
  const answer = await call(await departmentToken('440100', 'admin:read'), '/attribute-types');
  t.is(answer.status, 200);
  const { items } = (await answer.json()) as { items: Array<Record<string, unknown>> };
  t.like(
    items.find((type) => type.code === 'driving_licence'),
    {
      scope: 'verified:driving_licence',
      holder: 'person',
      sensitivity: 'general',
      certificate: { type_code: 'JDCJSZ' },
      schema: { type: 'object' },
    },
  );
  t.true(items.some((type) => type.code === 'business_licence' && type.holder === 'entity'));
});
