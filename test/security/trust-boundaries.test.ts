/**
 * The trust-boundary findings, each reproduced as an attacker did it and now refused: no region,
 * role or site reaches beyond what it was given (PostgreSQL + Redis).
 */
import test from 'ava';
import * as client from 'openid-client';
import { signInTo } from '../helpers/account.ts';
import {
  adminApi,
  consoleAdmin,
  departmentToken,
  searchPeople,
  withAuthenticator,
} from '../helpers/admin.ts';
import { Browser, submit } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import type { Authenticator } from '../helpers/totp.ts';
import { eventually, pause } from '../helpers/wait.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let notifier: Awaited<ReturnType<typeof receiver>>;
const closers: Array<() => void> = [];
test.before(async () => {
  notifier = await receiver((close) => closers.push(close), '/notify');
  yitong = await startYitong('postgres', { NOTIFIER_URL: notifier.url });
});
test.after.always(async () => {
  await yitong?.stop();
  for (const close of closers) close();
});

const db = () => yitong.server.container.database.db;
const ATTACKER = 'https://attacker.example.com/cb';

/** A province site, registered by the operator. */
async function provinceSite(extra: Record<string, unknown> = {}) {
  const clientId = `gov-${Math.random().toString(36).slice(2, 10)}`;
  const registered = await yitong.addClient({
    client_id: clientId,
    client_name: '省政务服务网',
    department: '省政务服务数据管理局',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile phone',
    ...extra,
  });
  return registered;
}

const clientRow = (id: string) =>
  db()
    .selectFrom('clients')
    .select(['region_code', 'metadata', 'secret_hash'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

/** Signs in at `site` (scope, extra parameters), answering the second factor when asked; returns the tokens. */
async function signInAt(
  site: Awaited<ReturnType<typeof discoverSite>>,
  person: { idNumber: string; password: string },
  authenticator: Authenticator,
  scope: string,
  extra: Record<string, string> = {},
) {
  const pending = await authorizationRequest(site, { scope, extra });
  const browser = new Browser();
  let page = await browser.visit(pending.url);
  page = await submit(
    browser,
    page,
    '/login',
    { id_number: person.idNumber, password: person.password },
    REDIRECT_URI,
  );
  if (page.html.includes('name="otp"'))
    page = await submit(browser, page, '/otp', { otp: await authenticator.nextCode() }, REDIRECT_URI);
  if (page.html.includes('/consent"')) page = await submit(browser, page, '/consent', {}, REDIRECT_URI);
  return exchangeCode(site, page.url, pending);
}

test('1 (critical): a county admin cannot take over a province site: creating with its id is refused (API and console), it cannot rotate its secret', async (t) => {
  const site = await provinceSite();
  const before = await clientRow(site.clientId);
  const county = await departmentToken(yitong, '440106', 'admin');
  const takeover = await adminApi(yitong, county, '/clients', {
    method: 'POST',
    body: {
      client_id: site.clientId,
      client_name: '省政务服务网',
      department: '天河区',
      region_code: '440106',
      redirect_uris: [ATTACKER],
      scope: 'openid profile phone',
    },
  });
  t.is(takeover.status, 409);
  t.like(await takeover.json(), { error: 'admin.client.exists' });
  t.is(
    (await adminApi(yitong, county, `/clients/${site.clientId}/rotate-secret`, { method: 'POST' })).status,
    403,
  );

  const admin = await consoleAdmin(yitong, 'admin', '440106');
  const list = await admin.browser.visit(`${yitong.issuer}/admin/clients`);
  const console = await submit(admin.browser, list, '/admin/clients', {
    client_id: site.clientId,
    client_name: '省政务服务网',
    department: '天河区',
    region_code: '440106',
    redirect_uris: ATTACKER,
    scope: 'openid profile phone',
  });
  t.is(console.status, 409);
  t.regex(console.html, /已被其他网站使用/);
  t.deepEqual(await clientRow(site.clientId), before, 'region, redirect URIs, scope and secret unchanged');

  // And the attack's end: the attacker's redirect URI is not the site's.
  const citizen = newCitizen();
  await yitong.createCitizen(citizen);
  const rp = await discoverSite(yitong.issuer, site.clientId, site.clientSecret);
  const pending = await authorizationRequest(rp, { redirectUri: ATTACKER, scope: 'openid profile' });
  const page = await new Browser().visit(pending.url, {}, ATTACKER);
  t.false(page.url.startsWith(ATTACKER), 'never sent to the attacker');
});

test('5: admin scopes are the province’s to give: a county admin cannot list them, and a site not designated gets no admin power from an administrator’s sign-in', async (t) => {
  const county = await departmentToken(yitong, '440106', 'admin');
  const created = await adminApi(yitong, county, '/clients', {
    method: 'POST',
    body: {
      client_id: `cty-${Date.now()}`,
      client_name: '区级工具',
      department: '天河区',
      region_code: '440106',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid admin',
    },
  });
  t.is(created.status, 403);
  t.like(await created.json(), { error: 'admin.client.admin_scope' });

  // A site saved with the admin scope but never designated (as one created before the fix).
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '区级工具',
    department: '天河区',
    region_code: '440106',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  await db()
    .updateTable('clients')
    .set({
      metadata: JSON.stringify({
        client_name: '区级工具',
        redirect_uris: [REDIRECT_URI],
        scope: 'openid admin',
        response_types: ['code'],
        grant_types: ['authorization_code'],
      }),
      admin_designated: false,
    })
    .where('id', '=', clientId)
    .execute();
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  // Asked in the query, the scope is dropped (the sign-in goes on without it); pushed, refused.
  const pending = await authorizationRequest(site, { scope: 'openid admin' });
  const back = await new Browser().visit(pending.url, {}, REDIRECT_URI);
  t.regex(back.html, /name="password"/, 'on to the sign-in, without the admin scope');
  const pushed = await t.throwsAsync(
    client.buildAuthorizationUrlWithPAR(site.config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid admin',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    }),
  );
  t.like(pushed, { error: 'invalid_scope' }, 'the provider never grants it');

  // The province editing its redirect URIs decides nothing; adding the scope is the decision.
  const province = await departmentToken(yitong, '440000', 'admin');
  const designated = async () =>
    (
      await db()
        .selectFrom('clients')
        .select('admin_designated')
        .where('id', '=', clientId)
        .executeTakeFirstOrThrow()
    ).admin_designated;
  const patch = (body: unknown) =>
    adminApi(yitong, province, `/clients/${clientId}`, { method: 'PATCH', body });
  t.is((await patch({ redirect_uris: [REDIRECT_URI] })).status, 200);
  t.false(await designated());
  t.is((await patch({ scope: 'openid' })).status, 200);
  t.is((await patch({ scope: 'openid admin' })).status, 200);
  t.true(await designated());
});

test('6: an administrator is acted on only from strictly higher up the region tree', async (t) => {
  // A province admin whose number lies in the county.
  const province = newCitizen('440106');
  const provinceSub = await yitong.createCitizen(province);
  await yitong.server.container.admin.addAdmin(province.idNumber, 'admin', '440000');
  const countyAdmin = newCitizen('440106');
  const countyAdminSub = await yitong.createCitizen(countyAdmin);
  await yitong.server.container.admin.addAdmin(countyAdmin.idNumber, 'auditor', '440106');
  const citizen = newCitizen('440106');
  const citizenSub = await yitong.createCitizen(citizen);

  const county = await departmentToken(yitong, '440106', 'admin');
  for (const action of ['lock', 'sign-out', 'reset-password', 'unlock']) {
    const answer = await adminApi(yitong, county, `/people/${provinceSub}/${action}`, { method: 'POST' });
    t.is(answer.status, 403, action);
    t.like(await answer.json(), { error: 'admin.peer' });
  }
  t.is(
    (await adminApi(yitong, county, `/people/${countyAdminSub}/lock`, { method: 'POST' })).status,
    403,
    'a peer',
  );
  t.is(
    (await adminApi(yitong, county, `/people/${citizenSub}/lock`, { method: 'POST' })).status,
    204,
    'a citizen',
  );
  const city = await departmentToken(yitong, '440100', 'admin');
  t.is(
    (await adminApi(yitong, city, `/people/${countyAdminSub}/lock`, { method: 'POST' })).status,
    204,
    'from above',
  );
  t.is(
    (await adminApi(yitong, city, `/people/${provinceSub}/lock`, { method: 'POST' })).status,
    403,
    'never upwards',
  );
  const otherProvince = await departmentToken(yitong, '440000', 'admin');
  t.is(
    (await adminApi(yitong, otherProvince, `/people/${provinceSub}/lock`, { method: 'POST' })).status,
    403,
    'nor a peer at the top',
  );
  t.is((await yitong.server.container.accounts.findPerson(provinceSub))?.status, 'active');
  // Reading stays within the region as before.
  t.is((await adminApi(yitong, county, `/people/${provinceSub}`)).status, 200);
});

test('7: a locked or signed-out administrator’s access token stops working at once', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '省级管理工具',
    department: '省政务服务数据管理局',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid admin',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const citizen = newCitizen('440304');
  await yitong.createCitizen(citizen);
  // Both administrators at once: each sign-in waits for a fresh authenticator code.
  const signedIn = await Promise.all(
    ['sign-out', 'lock'].map(async (end) => {
      const admin = await withAuthenticator(yitong, '440106', { role: 'admin', region: '440100' });
      return { end, admin, ...(await signInAt(site, admin.person, admin.authenticator, 'openid admin')) };
    }),
  );
  for (const { end, admin, access_token } of signedIn) {
    t.is((await searchPeople(yitong, access_token, citizen.idNumber)).status, 200);
    const province = await departmentToken(yitong, '440000', 'admin');
    t.is((await adminApi(yitong, province, `/people/${admin.sub}/${end}`, { method: 'POST' })).status, 204);
    t.is((await searchPeople(yitong, access_token, citizen.idNumber)).status, 401, end);
  }
});

test('8: a credit code in a path is parsed once, so a leading space cannot slip past the region check', async (t) => {
  const representative = newCitizen('440304');
  await yitong.createCitizen(representative);
  const first17 = `91440304${newCreditCode().slice(8, 17)}`;
  const { creditCheckCharacter } = await import('../../src/identity/credit-code.ts');
  const code = `${first17}${creditCheckCharacter(first17)}`;
  await yitong.server.container.legalPersons.createByOperator({
    creditCode: code,
    name: '深圳公司',
    representativeIdNumber: representative.idNumber,
  });
  const city = await departmentToken(yitong, '440100', 'admin');
  for (const path of [`%20${code}`, `${code.toLowerCase()}`, `%09${code}`]) {
    const answer = await adminApi(yitong, city, `/legal-persons/${path}/status`, {
      method: 'POST',
      body: { action: 'deregister' },
    });
    t.is(answer.status, 403, path);
  }
  const row = await db()
    .selectFrom('legal_persons')
    .select('status')
    .where('credit_code', '=', code)
    .executeTakeFirstOrThrow();
  t.is(row.status, 'active');
});

test('11: registering a number that has an account answers as for a new one; the owner’s proved number is told', async (t) => {
  const owner = newCitizen();
  const sub = await yitong.createCitizen(owner);
  await yitong.provePhone(sub, owner.phone);
  const register = async (person: ReturnType<typeof newCitizen>) => {
    const browser = new Browser();
    const page = await browser.visit(`${yitong.issuer}/register`);
    return submit(browser, page, '/register', {
      id_number: person.idNumber,
      name: '冒名',
      phone: '',
      password: 'another good password',
      password_confirm: 'another good password',
    });
  };
  const taken = await register(owner);
  const fresh = await register(newCitizen());
  t.is(taken.status, fresh.status);
  const text = (html: string) => html.match(/<main[\s\S]*<\/main>/)?.[0];
  t.is(text(taken.html), text(fresh.html));
  // Repeated attempts send one notice a day: they can neither flood the phone nor use up the
  // budget of the security notices.
  await register(owner);
  await register(owner);
  const isNotice = (r: { body: string }) => JSON.parse(r.body).kind === 'registration_attempted';
  await eventually('the notice', () => notifier.received.some(isNotice));
  await pause(200); // and no second one after it
  const notices = notifier.received.map((r) => JSON.parse(r.body) as { kind: string; personId: string });
  t.is(notices.filter((n) => n.kind === 'registration_attempted' && n.personId === sub).length, 1);
  t.truthy(
    await yitong.server.container.accounts.authenticate(owner.idNumber, owner.password, '10.9.0.1'),
    'the owner’s password is unchanged',
  );
});

test('12: a site’s registered default_acr_values are a floor: acr_values=pwd still gets the second factor', async (t) => {
  const { clientId, clientSecret } = await provinceSite({ default_acr_values: ['urn:yitong:acr:mfa'] });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const person = await withAuthenticator(yitong);
  const tokens = await signInAt(site, person.person, person.authenticator, 'openid', {
    acr_values: 'urn:yitong:acr:pwd',
  });
  t.is(tokens.claims()?.acr, 'urn:yitong:acr:mfa');
  // Without a second factor, a person is never let through with a password alone.
  const plain = newCitizen();
  await yitong.createCitizen(plain);
  const pending = await authorizationRequest(site, {
    scope: 'openid',
    extra: { acr_values: 'urn:yitong:acr:pwd' },
  });
  const browser = new Browser();
  const login = await browser.visit(pending.url);
  const next = await submit(
    browser,
    login,
    '/login',
    { id_number: plain.idNumber, password: plain.password },
    REDIRECT_URI,
  );
  t.false(next.url.startsWith(REDIRECT_URI));
  t.regex(next.html, /还没有设置第二重验证方式/);
});

test('13: admin searches never put a number in a URL: GET searches are gone', async (t) => {
  const token = await departmentToken(yitong, '440000', 'admin:read');
  const person = newCitizen();
  await yitong.createCitizen(person);
  t.is((await adminApi(yitong, token, `/people?q=${person.idNumber}`)).status, 404);
  t.is((await searchPeople(yitong, token, person.idNumber)).status, 200);
  const admin = await consoleAdmin(yitong, 'auditor', '440000');
  const get = await admin.browser.visit(`${yitong.issuer}/admin?q=${person.idNumber}`);
  t.notRegex(get.html, /\/admin\/people\//, 'the GET form is not a search');
});

test('4 (through the pages): a browser that signed in before is not held back by guesses from elsewhere', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const known = new Browser();
  await signInTo(known, yitong.issuer, person);
  const accounts = yitong.server.container.accounts;
  for (let i = 0; i < 30; i++)
    await t.throwsAsync(accounts.authenticate(person.idNumber, 'wrong', `10.8.${i % 7}.1`));
  // This address (the test's) then fails once: a stranger's browser here now waits…
  await t.throwsAsync(accounts.authenticate(person.idNumber, 'wrong', '127.0.0.1'));
  const stranger = new Browser();
  const refused = await signInTo(stranger, yitong.issuer, person);
  t.regex(refused.html, /失败次数过多/);
  // …the owner's own browser, which signed in before, does not.
  const fresh = new Browser();
  for (const [name, cookie] of known.cookies) if (name === 'yitong.device') fresh.cookies.set(name, cookie);
  const page = await signInTo(fresh, yitong.issuer, person);
  t.is(page.status, 200);
  t.regex(page.url, /\/account$/);
});

test('a client-credentials token acts only while its site still lists the admin scope', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '自动化',
    department: '数据局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['client_credentials'],
    scope: 'openid admin',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const { access_token } = await client.clientCredentialsGrant(site.config, { scope: 'admin' });
  t.is((await adminApi(yitong, access_token, '/clients')).status, 200);
  // Taken away, even straight in SQL: announced as every change to a site is, every node forgets its copy at once.
  await db().updateTable('clients').set({ admin_designated: false }).where('id', '=', clientId).execute();
  t.is(
    await eventually('refused', async () => {
      const { status } = await adminApi(yitong, access_token, '/clients');
      return status === 403 && status;
    }),
    403,
  );
});

const SERVICE_ITEM = '11440000006940026X4000110003000';

test('14: a site holding the province’s grants is the province’s: a county admin cannot rotate its secret or disable it; a source publishes only as the department and region the catalogue names', async (t) => {
  // Registered by the operator in the county: a source department's site and a service item's site.
  const publishing = await provinceSite({
    department: '省教育厅',
    region_code: '440106',
    grant_types: ['client_credentials'],
    scope: 'openid',
    publishes: ['education'],
  });
  const serving = await provinceSite({
    region_code: '440106',
    service_items: [{ code: SERVICE_ITEM, name: '户口迁入' }],
  });
  const before = await clientRow(publishing.clientId);
  const county = await departmentToken(yitong, '440106', 'admin');
  for (const site of [publishing, serving]) {
    for (const action of ['rotate-secret', 'disable']) {
      const answer = await adminApi(yitong, county, `/clients/${site.clientId}/${action}`, {
        method: 'POST',
      });
      t.is(answer.status, 403, `${action} ${site.clientId}`);
      t.like(await answer.json(), { error: 'admin.client.admin_scope' });
    }
  }
  const admin = await consoleAdmin(yitong, 'admin', '440106');
  const page = await admin.browser.visit(`${yitong.issuer}/admin/clients/${publishing.clientId}`);
  t.is(page.status, 200, 'it may still look');
  const rotated = await admin.browser.visit(
    `${yitong.issuer}/admin/clients/${publishing.clientId}/rotate-secret`,
    { form: { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', now: 'yes' } },
  );
  t.is(rotated.status, 403);
  t.regex(rotated.html, /只能由省级管理员/);
  t.deepEqual(await clientRow(publishing.clientId), before, 'secret unchanged, still enabled');
  const province = await departmentToken(yitong, '440000', 'admin');
  t.is(
    (await adminApi(yitong, province, `/clients/${serving.clientId}/rotate-secret`, { method: 'POST' }))
      .status,
    200,
    'the province may',
  );
  // An empty list, or false, grants nothing: such a site is the county's to manage like any other.
  const plain = await provinceSite({
    region_code: '440106',
    publishes: [],
    service_items: [],
    federation_partner: false,
  });
  t.is(
    (await adminApi(yitong, county, `/clients/${plain.clientId}/rotate-secret`, { method: 'POST' })).status,
    200,
  );

  // The catalogue names 省教育厅 of 440000 as education's source: the same name in a county is not it.
  const citizen = newCitizen();
  await yitong.createCitizen(citizen);
  const source = await discoverSite(yitong.issuer, publishing.clientId, publishing.clientSecret);
  const { access_token } = await client.clientCredentialsGrant(source.config);
  const published = await fetch(`${yitong.issuer}/sources/v1/attributes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
    body: JSON.stringify({
      holder: { id_number: citizen.idNumber },
      type: 'education',
      value: { level: '博士研究生', institution: '伪造大学', graduated_on: '2010-07-01' },
      verified_at: '2026-01-01T00:00:00+08:00',
      evidence: { type: 'electronic_record' },
    }),
  });
  t.is(published.status, 403);
  t.like(await published.json(), { error: 'attribute.not_yours' });
  t.is(
    await db()
      .selectFrom('attributes')
      .select('holder_id')
      .where('type_code', '=', 'education')
      .executeTakeFirst(),
    undefined,
  );
});

test('15: nobody confirms a claim that names them the representative; a named representative nobody verified is proved only at a counter', async (t) => {
  const { legalPersons, accounts } = yitong.server.container;
  const admin = await consoleAdmin(yitong, 'admin', '440106', '440106');
  const accomplice = newCitizen('440106');
  const accompliceSub = await yitong.createCitizen(accomplice);
  const person = await accounts.findPerson(accompliceSub);
  if (!person) return t.fail('no person');
  const claim = await legalPersons.register(
    person,
    {
      creditCode: newCreditCode(),
      name: '冒名公司',
      type: 'enterprise',
      role: 'administrator',
      representativeIdNumber: admin.person.idNumber,
    },
    '127.0.0.1',
  );
  const confirm = (by: typeof admin) =>
    by.browser.visit(`${yitong.issuer}/admin/legal-persons/claims/${claim.id}/confirm`, {
      form: {
        _csrf: by.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
        evidence: '营业执照原件',
      },
    });
  const own = await confirm(admin);
  t.is(own.status, 403);
  t.regex(own.html, /不能确认自己提交或参与的登记申请/);
  const city = await consoleAdmin(yitong, 'admin', '440100');
  const unverified = await confirm(city);
  t.is(unverified.status, 409, 'the named representative is at level 1');
  t.is((await legalPersons.findClaim(claim.id))?.status, 'pending', 'still a claim');
  t.deepEqual(
    await db()
      .selectFrom('memberships')
      .select('person_id')
      .where('legal_person_id', '=', claim.id)
      .execute(),
    [{ person_id: accompliceSub }],
  );
});

test('16: counter staff reset the passwords of citizens, never of an administrator or another member of staff', async (t) => {
  const { levels } = yitong.server.container;
  const clerk = await withAuthenticator(yitong, '440106');
  await levels.addStaff(clerk.person.idNumber, '天河区政务服务中心', '440106');
  const desk = new Browser();
  const staffPage = await signInTo(
    desk,
    yitong.issuer,
    { ...clerk.person, authenticator: clerk.authenticator },
    '/staff',
  );
  const provinceAdmin = newCitizen('440106');
  const provinceAdminSub = await yitong.createCitizen(provinceAdmin);
  await yitong.server.container.admin.addAdmin(provinceAdmin.idNumber, 'admin', '440000');
  const colleague = newCitizen('440106');
  const colleagueSub = await yitong.createCitizen(colleague);
  await levels.addStaff(colleague.idNumber, '天河区政务服务中心', '440106');
  const citizen = newCitizen('440106');
  const citizenSub = await yitong.createCitizen(citizen);
  const resetAt = async (idNumber: string, sub: string) => {
    const found = await submit(desk, staffPage, '/staff/lookup', { id_number: idNumber });
    return desk.visit(`${yitong.issuer}/staff/reset`, {
      form: {
        _csrf: found.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
        person: sub,
        card_checked: 'yes',
      },
    });
  };
  for (const [idNumber, sub] of [
    [provinceAdmin.idNumber, provinceAdminSub],
    [colleague.idNumber, colleagueSub],
  ] as const) {
    const refused = await resetAt(idNumber, sub);
    t.is(refused.status, 403);
    t.regex(refused.html, /不能在窗口重置密码/);
  }
  t.regex((await resetAt(citizen.idNumber, citizenSub)).html, /\/reset\/[\w-]{43}/, 'a citizen’s is reset');
  const started = await db()
    .selectFrom('audit_events')
    .select('subject')
    .where('action', '=', 'password.reset_started')
    .where('actor', '=', clerk.sub)
    .execute();
  t.deepEqual(started, [{ subject: citizenSub }]);
});

test('17: an entity’s administrator grants, narrows or removes no more than they hold, and never changes their own authorisation', async (t) => {
  const { legalPersons } = yitong.server.container;
  const site = await provinceSite();
  const other = await provinceSite();
  const [representative, limited, helper, wide] = [
    newCitizen('440106'),
    newCitizen('440106'),
    newCitizen('440106'),
    newCitizen('440106'),
  ];
  const representativeSub = await yitong.createCitizen(representative);
  const limitedSub = await yitong.createCitizen(limited);
  await yitong.createCitizen(helper);
  const wideSub = await yitong.createCitizen(wide);
  const code = newCreditCode();
  await legalPersons.createByOperator({
    creditCode: code,
    name: '限权公司',
    representativeIdNumber: representative.idNumber,
  });
  await legalPersons.grant({ personId: representativeSub }, code, {
    idNumber: limited.idNumber,
    role: 'administrator',
    clients: site.clientId,
    until: '2098-12-31',
  });
  await legalPersons.grant({ personId: representativeSub }, code, {
    idNumber: wide.idNumber,
    role: 'administrator',
  });
  const grant = (idNumber: string, clients: string, until: string) =>
    legalPersons.grant({ personId: limitedSub }, code, { idNumber, role: 'agent', clients, until }).then(
      () => 'granted',
      (error: { code?: string }) => error.code,
    );
  t.is(await grant(limited.idNumber, '', ''), 'legal_person.own_membership', 'its own limits lifted');
  t.is(await grant(helper.idNumber, '', '2098-12-31'), 'legal_person.beyond_own', 'every site');
  t.is(
    await grant(helper.idNumber, `${site.clientId},${other.clientId}`, '2098-12-31'),
    'legal_person.beyond_own',
  );
  t.is(await grant(helper.idNumber, site.clientId, ''), 'legal_person.beyond_own', 'no end');
  t.is(await grant(helper.idNumber, site.clientId, '2099-01-01'), 'legal_person.beyond_own', 'a later end');
  t.is(await grant(helper.idNumber, site.clientId, '2098-06-30'), 'granted', 'within its own');
  t.is(
    await grant(wide.idNumber, site.clientId, '2098-06-30'),
    'legal_person.beyond_own',
    'narrowing a wider one',
  );
  t.is(
    await legalPersons.revoke({ personId: limitedSub }, code, { personId: wideSub }).then(
      () => 'revoked',
      (error: { code?: string }) => error.code,
    ),
    'legal_person.beyond_own',
    'removing a wider one',
  );
  t.like(
    await db()
      .selectFrom('memberships')
      .select(['role', 'client_ids'])
      .where('person_id', '=', wideSub)
      .executeTakeFirst(),
    { role: 'administrator', client_ids: null },
  );
  const mine = await db()
    .selectFrom('memberships')
    .select(['client_ids', 'valid_until'])
    .where('person_id', '=', limitedSub)
    .executeTakeFirstOrThrow();
  t.like(mine, { client_ids: [site.clientId] });
});
