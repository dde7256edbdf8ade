/**
 * Departmental sites in the console: listed and registered within the admin's region, redirect
 * URIs and scopes edited under the manifest rules, the secret rotated (shown once), disabled;
 * each change one audit row.
 */
import test from 'ava';
import { signInTo } from '../helpers/account.ts';
import { consoleAdmin } from '../helpers/admin.ts';
import { Browser, hiddenField, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

const administrator = async (role: string, region: string) =>
  (await consoleAdmin(yitong, role, region, '440106')).browser;

test('a city admin registers, edits, rotates and disables a site of the city; another city’s is out of reach', async (t) => {
  const browser = await administrator('admin', '440100');
  const list = await browser.visit(`${yitong.issuer}/admin/clients`);
  const form = {
    client_id: 'gz-kaiban',
    client_name: '广州企业开办',
    department: '广州市市场监督管理局',
    region_code: '440106',
    redirect_uris: 'https://kb.gz.example.gov.cn/callback',
    scope: 'openid profile',
  };
  const created = await submit(browser, list, '/admin/clients', form);
  t.is(created.status, 200);
  const secret = created.html.match(/<code class="secret">([\w-]+)<\/code>/)?.[1];
  t.regex(secret ?? '', /^[\w-]{43}$/, 'the secret, shown once');

  const bad = await submit(browser, list, '/admin/clients', {
    ...form,
    client_id: 'gz-bad',
    redirect_uris: 'http://kb.gz.example.gov.cn/cb',
  });
  t.is(bad.status, 400);
  t.regex(
    bad.html,
    /id="redirect_uris-error" role="alert">请填写至少一个返回地址，每行一个，须为完整的 https:\/\/ 网址/,
  );
  t.notRegex(bad.html, /must be/, 'no English inside the Chinese page');
  t.regex(bad.html, /value="gz-bad"/, 'what was typed stays');
  const foreign = await submit(browser, list, '/admin/clients', {
    ...form,
    client_id: 'sz-site',
    region_code: '440304',
  });
  t.is(foreign.status, 403);

  const edited = await submit(browser, created, '/admin/clients/gz-kaiban', {
    redirect_uris: 'https://kb.gz.example.gov.cn/callback\nhttps://kb.gz.example.gov.cn/callback2',
    scope: 'openid profile phone',
  });
  t.is(edited.status, 200);
  const row = await yitong.server.container.database.db
    .selectFrom('clients')
    .selectAll()
    .where('id', '=', 'gz-kaiban')
    .executeTakeFirstOrThrow();
  t.deepEqual(row.metadata.redirect_uris, [
    'https://kb.gz.example.gov.cn/callback',
    'https://kb.gz.example.gov.cn/callback2',
  ]);
  t.is(row.metadata.scope, 'openid profile phone');
  t.is(row.department, '广州市市场监督管理局', 'unchanged');

  const rotated = await submit(browser, edited, '/rotate-secret');
  const newSecret = rotated.html.match(/<code class="secret">([\w-]+)<\/code>/)?.[1];
  t.truthy(newSecret);
  t.not(newSecret, secret);
  await submit(browser, rotated, '/disable');
  t.false(
    (
      await yitong.server.container.database.db
        .selectFrom('clients')
        .select('enabled')
        .where('id', '=', 'gz-kaiban')
        .executeTakeFirstOrThrow()
    ).enabled,
  );

  const actions = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', 'gz-kaiban')
    .orderBy('seq')
    .execute();
  t.deepEqual(
    actions.map((a) => a.action),
    ['client.created', 'client.updated', 'client.secret_rotated', 'client.disabled'],
  );

  await yitong.addClient({
    client_id: 'sz-other',
    client_name: '深圳',
    department: '深圳',
    region_code: '440304',
    redirect_uris: ['https://sz.example.gov.cn/cb'],
    scope: 'openid',
  });
  t.is((await browser.visit(`${yitong.issuer}/admin/clients/sz-other`)).status, 403);
  const listed = await browser.visit(`${yitong.issuer}/admin/clients`);
  t.notRegex(listed.html, /sz-other/);
  t.regex(listed.html, /gz-kaiban/);
});

test('the console refuses the id of the provider’s own client next to its field, and registers nothing', async (t) => {
  const browser = await administrator('admin', '440000');
  const list = await browser.visit(`${yitong.issuer}/admin/clients`);
  const refused = await submit(browser, list, '/admin/clients', {
    client_id: 'yitong-account',
    client_name: '冒名的网站',
    department: '某部门',
    region_code: '440106',
    redirect_uris: 'https://x.example.gov.cn/cb',
    scope: 'openid',
  });
  t.is(refused.status, 400);
  t.regex(
    refused.html,
    /id="client_id-error" role="alert">[^<]*一通自用的标识（如 yitong-account）不能登记，请换一个/,
  );
  const { db } = yitong.server.container.database;
  t.deepEqual(await db.selectFrom('clients').select('id').where('id', '=', 'yitong-account').execute(), []);
  t.deepEqual(
    await db.selectFrom('audit_events').select('action').where('subject', '=', 'yitong-account').execute(),
    [],
  );
});

test('saving a site’s form changes and audits only a real change: the same values are a notice, no fields a bad request', async (t) => {
  const browser = await administrator('admin', '440100');
  await yitong.addClient({
    client_id: 'gz-same',
    client_name: '广州重复保存',
    department: '广州市政务服务数据管理局',
    region_code: '440106',
    redirect_uris: ['https://same.gz.example.gov.cn/cb'],
    scope: 'openid profile',
  });
  const { db } = yitong.server.container.database;
  const stored = () =>
    db
      .selectFrom('clients')
      .select(['metadata', 'updated_at'])
      .where('id', '=', 'gz-same')
      .executeTakeFirstOrThrow();
  const audited = () =>
    db.selectFrom('audit_events').select(['action', 'details']).where('subject', '=', 'gz-same').execute();
  const before = await stored();
  const page = await browser.visit(`${yitong.issuer}/admin/clients/gz-same`);

  // Nothing of the form: only the CSRF token, or every field an array or a number (JSON).
  const empty = await submit(browser, page, '/admin/clients/gz-same');
  t.is(empty.status, 400);
  t.regex(empty.html, /提交的内容缺少这个表单的字段/);
  const wrongTypes = await fetch(`${yitong.issuer}/admin/clients/gz-same`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: browser.cookieHeader(new URL(yitong.issuer)),
      accept: 'text/html',
    },
    body: JSON.stringify({
      _csrf: hiddenField(page.html, '_csrf'),
      redirect_uris: ['https://other.gz.example.gov.cn/cb'],
      scope: 42,
    }),
  });
  t.is(wrongTypes.status, 400);

  // The form sent back as it was shown.
  const same = await submit(browser, page, '/admin/clients/gz-same', {
    redirect_uris: 'https://same.gz.example.gov.cn/cb',
    post_logout_redirect_uris: '',
    backchannel_logout_uri: '',
    backchannel_logout_session_required: 'yes',
    scope: 'openid profile',
  });
  t.is(same.status, 200);
  t.regex(same.html, /role="status">提交的设置与已登记的相同，没有作任何更改。/);
  t.deepEqual(await stored(), before, 'not written');
  t.deepEqual(await audited(), [], 'not audited');

  const changed = await submit(browser, page, '/admin/clients/gz-same', {
    redirect_uris: 'https://same.gz.example.gov.cn/cb',
    scope: 'openid profile phone',
  });
  t.is(changed.status, 200);
  t.notRegex(changed.html, /没有作任何更改/);
  t.is((await stored()).metadata.scope, 'openid profile phone');
  t.deepEqual(await audited(), [
    {
      action: 'client.updated',
      details: { client_id: 'gz-same', fields: ['scope'], admin_designated: false },
    },
  ]);
});

test('the site list names the administrator’s role, and still offers every grant type', async (t) => {
  const browser = await administrator('admin', '440100');
  const list = await browser.visit(`${yitong.issuer}/admin/clients`);
  t.regex(list.html, /您的权限：管理员 广州市/, 'the region by its name');
  t.notRegex(list.html, /undefined|admin\.role\./, 'no raw key, no missing value');
  for (const grant of ['authorization_code', 'refresh_token', 'client_credentials'])
    t.regex(list.html, new RegExp(`name="grant_${grant}"`), grant);
});

test('a missing site is a missing site, and the error page leads back to the console', async (t) => {
  const browser = await administrator('auditor', '440100');
  const missing = await browser.visit(`${yitong.issuer}/admin/clients/nosuch`);
  t.is(missing.status, 404);
  t.regex(missing.html, /没有找到该网站/);
  t.notRegex(missing.html, /账号/);
  t.regex(missing.html, /<a href="\/admin">返回管理后台<\/a>/);
  t.notRegex(missing.html, /返回首页/);
  // Someone who may not enter the console is sent home, not back to it.
  const citizen = newCitizen();
  await yitong.createCitizen(citizen);
  const outsider = new Browser();
  await signInTo(outsider, yitong.issuer, citizen);
  const forbidden = await outsider.visit(`${yitong.issuer}/admin/clients/nosuch`);
  t.is(forbidden.status, 403);
  t.regex(forbidden.html, /<a href="\/">返回首页<\/a>/);
});

test('a rotated secret: the new one works at once, the old one until its grace period ends, then never', async (t) => {
  const yitong = await startYitong('pglite', { CLIENT_SECRET_GRACE_SECONDS: '3' });
  t.teardown(() => yitong.stop());
  const { clientId, clientSecret: old } = await yitong.addClient({
    client_id: 'grace-site',
    client_name: '轮换密钥的网站',
    department: '测试部门',
    region_code: '440100',
    grant_types: ['client_credentials'],
    redirect_uris: ['https://grace.example.gov.cn/cb'],
    scope: 'openid',
  });
  const token = (secret: string) =>
    fetch(`${yitong.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    }).then((answer) => answer.status);
  t.is(await token(old), 200);
  const rotated = await yitong.server.container.clients.rotateSecret(clientId);
  const secret = rotated?.secret ?? '';
  // The old one first: the grace ends on a whole second, so it may be barely 2 s away.
  t.is(await token(old), 200, 'the old one during the grace period');
  t.is(await token(secret), 200, 'the new one at once');
  t.is(await token('not-the-secret-at-all-0000000000000000000000'), 401);
  await new Promise((resolve) => setTimeout(resolve, 3200));
  t.is(await token(old), 401, 'the old one after it');
  t.is(await token(secret), 200);

  // A leaked secret is ended at once.
  const leaked = await yitong.server.container.clients.rotateSecret(clientId, undefined, true);
  t.is(await token(secret), 401, 'the leaked one stops at once');
  t.is(await token(leaked?.secret ?? ''), 200);
});

test('the console registers a site with its logout settings, grant types and auth method, and a service account with none of a site’s', async (t) => {
  const browser = await administrator('admin', '440100');
  const list = await browser.visit(`${yitong.issuer}/admin/clients`);
  const created = await submit(browser, list, '/admin/clients', {
    client_id: 'gz-full',
    client_name: '广州不动产登记',
    department: '广州市规划和自然资源局',
    region_code: '440106',
    grant_authorization_code: 'yes',
    grant_refresh_token: 'yes',
    token_endpoint_auth_method: 'client_secret_post',
    redirect_uris: 'https://bdc.gz.example.gov.cn/callback',
    post_logout_redirect_uris: 'https://bdc.gz.example.gov.cn/',
    backchannel_logout_uri: 'https://bdc.gz.example.gov.cn/logout',
    backchannel_logout_session_required: 'yes',
    scope: 'openid profile offline_access',
  });
  t.is(created.status, 200);
  for (const shown of [
    '已启用',
    '用户登录（授权码）、保持登录（刷新令牌）',
    '密钥（表单提交）',
    'https://bdc.gz.example.gov.cn/logout',
    '广州市天河区',
  ])
    t.true(created.html.includes(shown), shown);
  const row = await yitong.server.container.clientsRepo.findEnabledClient('gz-full');
  t.like(row?.metadata, {
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_post',
    post_logout_redirect_uris: ['https://bdc.gz.example.gov.cn/'],
    backchannel_logout_uri: 'https://bdc.gz.example.gov.cn/logout',
    backchannel_logout_session_required: true,
  });

  // A service account: client credentials only, no redirect URIs, no openid.
  const service = await submit(browser, list, '/admin/clients', {
    client_id: 'gz-batch',
    client_name: '广州批量核验服务',
    department: '广州市政务服务数据管理局',
    region_code: '440100',
    grant_client_credentials: 'yes',
    token_endpoint_auth_method: 'client_secret_basic',
    scope: '',
  });
  t.is(service.status, 200, service.html.match(/role="alert">([^<]+)/)?.[1]);
  const secret = service.html.match(/<code class="secret">([\w-]+)<\/code>/)?.[1] ?? '';
  const token = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`gz-batch:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  t.is(token.status, 200);
  // No scope registered means no scope granted, never any scope.
  const greedy = await fetch(`${yitong.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`gz-batch:${secret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials&scope=admin%20id_number',
  });
  t.is(greedy.status, 400);
  t.like(await greedy.json(), { error: 'invalid_scope' });
  t.regex((await browser.visit(`${yitong.issuer}/admin/clients`)).html, /广州批量核验服务[\s\S]*?服务账号/);

  // Every wrong field at once, each in words next to it.
  const wrong = await submit(browser, list, '/admin/clients', {
    client_id: 'X',
    client_name: '',
    department: '部门',
    region_code: '44',
    grant_authorization_code: 'yes',
    redirect_uris: '',
    scope: 'profile',
  });
  t.is(wrong.status, 400);
  for (const field of ['client_id', 'client_name', 'region_code'])
    t.regex(wrong.html, new RegExp(`id="${field}-error"`), field);
});
