/**
 * Identity mutual trust between two Yitong instances on PostgreSQL and Redis: B (127.0.0.1)
 * plays the national platform, A (localhost) names it in an upstream manifest. A departmental
 * site of A signs a person in through B (openid-client on both sides): a new person gets an
 * account at the level B vouches, capped by A's manifest; an existing account at level 2 is
 * linked at once when B vouches level 2; a level-1 account is linked only after its password;
 * an upstream never signs in to an account whose number it did not assert; a cancelled sign-in
 * gets a page and the way back; the session says `amr` `fed`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { ACR } from '../../src/auth/strength.ts';
import { adminApi, departmentToken } from '../helpers/admin.ts';
import { bareIssuer, bareUpstream } from '../helpers/bare-upstream.ts';
import { Browser, formAction, hiddenField, type Page, submit } from '../helpers/browser.ts';
import { type HostileUpstream, hostileUpstream } from '../helpers/hostile-upstream.ts';
import { newCitizen } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  type Site,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let a: Yitong;
let b: Yitong;
let site: Site;
let dir: string;
let hostile: HostileUpstream;
let bare: Awaited<ReturnType<typeof bareUpstream>>;
const SECRET = randomBytes(32).toString('base64url');
let privateJwk: JWK;
let publicJwk: JWK;

test.before(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'province-a-1', alg: 'ES256' };
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'province-a-1', alg: 'ES256', use: 'sig' };
  b = await startYitong('postgres', {}, '127.0.0.1');
  dir = await mkdtemp(join(tmpdir(), 'yitong-upstreams-'));
  await writeFile(
    join(dir, 'national.json'),
    JSON.stringify({
      id: 'national',
      issuer: b.issuer,
      client_id: 'province-a',
      // A signs its token requests to B with its own key (private_key_jwt).
      private_key_jwk: privateJwk,
      scope: 'openid profile id_number',
      claims: { id_number: 'id_number', name: 'name', identity_level: 'identity_level' },
      max_identity_level: 2,
      acr_map: { [ACR.mfa]: ACR.mfa },
      name: { 'zh-CN': '国家政务服务平台', en: 'the national government service platform' },
      label: { 'zh-CN': '使用国家政务服务平台账号登录', en: 'Sign in with the national platform' },
      region_code: '110000',
    }),
  );
  hostile = await hostileUpstream('province-a');
  await writeFile(
    join(dir, 'hostile.json'),
    JSON.stringify({
      id: 'hostile',
      issuer: hostile.issuer,
      client_id: 'province-a',
      client_secret: SECRET,
      max_identity_level: 1,
      name: { 'zh-CN': '某外省平台', en: 'another province' },
      label: { 'zh-CN': '使用外省账号登录', en: 'Sign in with another province' },
      region_code: '320000',
    }),
  );
  const bareAt = await bareIssuer();
  await writeFile(
    join(dir, 'bare.json'),
    JSON.stringify({
      id: 'bare',
      issuer: bareAt,
      client_id: 'province-a',
      client_secret: SECRET,
      scope: 'openid profile id_number',
      claims: { id_number: 'id_number', name: 'name', identity_level: 'identity_level' },
      max_identity_level: 2,
      name: { 'zh-CN': '邻省统一身份认证平台', en: 'the neighbouring province’s platform' },
      label: { 'zh-CN': '使用邻省账号登录', en: 'Sign in with the neighbouring province' },
      region_code: '450000',
    }),
  );
  a = await startYitong('postgres');
  await a.server.container.upstreamsStore.sync(dir, 'test');
  bare = await bareUpstream(bareAt, {
    id: 'province-a',
    secret: SECRET,
    redirectUri: `${a.issuer}/federation/callback`,
  });
  await b.addClient({
    client_id: 'province-a',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [publicJwk] },
    client_name: '省统一身份认证平台',
    department: '省政务服务数据管理局',
    region_code: '440000',
    redirect_uris: [`${a.issuer}/federation/callback`],
    scope: 'openid profile id_number',
    backchannel_logout_uri: `${a.issuer}/federation/backchannel-logout/national`,
    // B serves A as a federation partner: pairwise subs only.
    federation_partner: true,
    subject_type: 'pairwise',
  });
  const { clientId, clientSecret } = await a.addClient({
    client_name: '社保查询',
    department: '省人力资源和社会保障厅',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  site = await discoverSite(a.issuer, clientId, clientSecret);
});
test.after.always(async () => {
  await a?.stop();
  await b?.stop();
  await hostile?.close();
  await bare?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A person registered at B (the national platform), at identity level `level`. */
async function nationalPerson(level: 1 | 2 | 3) {
  const person = newCitizen();
  const sub = await b.createCitizen(person);
  if (level > 1)
    await b.server.container.accountsRepo.raiseIdentityLevel(sub, level as 2 | 3, {
      actor: sub,
      action: 'identity.verified',
      subject: sub,
    });
  return person;
}

/** From the site through A's sign-in page and B's, consenting where asked; the page it ends on. */
async function throughUpstream(browser: Browser, person: { idNumber: string; password: string }) {
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  let page = await browser.visit(pending.url, {}, REDIRECT_URI);
  t_assert(page.html.includes('使用国家政务服务平台账号登录'), 'the button on the sign-in page');
  page = await browser.visit(
    new URL(/href="(\/interaction\/[^"]+\/upstream\/national)"/.exec(page.html)?.[1] ?? '', page.url).href,
    {},
    REDIRECT_URI,
  );
  for (let step = 0; step < 6 && !page.url.startsWith(REDIRECT_URI); step++) {
    const at = new URL(page.url);
    if (page.html.includes('name="password"') && at.hostname === '127.0.0.1')
      page = await submit(
        browser,
        page,
        '/login',
        { id_number: person.idNumber, password: person.password },
        REDIRECT_URI,
      );
    else if (page.html.includes('/consent"'))
      page = await browser.visit(
        new URL(formAction(page.html, '/consent'), page.url).href,
        { form: { _csrf: hiddenField(page.html, '_csrf') } },
        REDIRECT_URI,
      );
    else break;
  }
  return { page, pending };
}

function t_assert(condition: boolean, what: string) {
  if (!condition) throw new Error(what);
}

const local = (idNumber: string) => a.server.container.accounts.findPersonByIdNumber(idNumber as never);

test('a new person: an account at the vouched level, capped by the manifest; the site sees amr fed', async (t) => {
  const person = await nationalPerson(3);
  const browser = new Browser();
  const { page, pending } = await throughUpstream(browser, person);
  t.true(page.url.startsWith(REDIRECT_URI), page.html.slice(0, 300));
  const tokens = await exchangeCode(site, page.url, pending);
  t.deepEqual(tokens.claims()?.amr, ['fed']);
  t.is(tokens.claims()?.acr, ACR.pwd, 'B’s acr maps to the weakest unless the manifest says otherwise');
  const created = await local(person.idNumber);
  t.like(created, { name: person.name, identityLevel: 2 }, 'level 3 at B, capped at 2');
  // Signing in again through B: the link is used, no new account.
  const again = await throughUpstream(new Browser(), person);
  t.true(again.page.url.startsWith(REDIRECT_URI));
  t.is((await local(person.idNumber))?.id, created?.id);
});

test('an existing account: linked at once at level 2 on both sides; at level 1 only after its password', async (t) => {
  const strong = await nationalPerson(2);
  const strongSub = await a.createCitizen(strong);
  await a.server.container.accountsRepo.raiseIdentityLevel(strongSub, 2, {
    actor: strongSub,
    action: 'identity.verified',
    subject: strongSub,
  });
  const linked = await throughUpstream(new Browser(), strong);
  t.true(linked.page.url.startsWith(REDIRECT_URI));
  t.is((await exchangeCode(site, linked.page.url, linked.pending)).claims()?.sub, strongSub);

  const weak = await nationalPerson(2);
  const weakSub = await a.createCitizen(weak);
  const browser = new Browser();
  const waiting = await throughUpstream(browser, weak);
  t.regex(waiting.page.html, /请用一通密码登录一次以确认是您本人/);
  const links = () => a.server.container.federation.linksOf(weakSub);
  t.deepEqual(await links(), [], 'no link before the proof');
  const done: Page = await submit(
    browser,
    waiting.page,
    '/login',
    { id_number: weak.idNumber, password: weak.password },
    REDIRECT_URI,
  );
  const finished = done.html.includes('/consent"')
    ? await browser.visit(
        new URL(formAction(done.html, '/consent'), done.url).href,
        { form: { _csrf: hiddenField(done.html, '_csrf') } },
        REDIRECT_URI,
      )
    : done;
  t.true(finished.url.startsWith(REDIRECT_URI));
  t.is((await links()).length, 1, 'linked after the password');
});

test('an upstream never signs in to an account whose number it did not assert', async (t) => {
  const person = await nationalPerson(2);
  await throughUpstream(new Browser(), person);
  const created = await local(person.idNumber);
  // B's record of the person now carries another number (a mistake, or a hostile upstream).
  const other = newCitizen();
  const bSub = (await b.server.container.accounts.findPersonByIdNumber(person.idNumber as never))?.id ?? '';
  const { sealer } = b.server.container;
  await b.server.container.database.db
    .updateTable('people')
    .set({
      id_number_hmac: sealer.index(other.idNumber as never),
      id_number_enc: sealer.seal(other.idNumber as never),
    })
    .where('id', '=', bSub)
    .execute();
  const refused = await throughUpstream(new Browser(), { ...person, idNumber: other.idNumber });
  t.is(refused.page.status, 403);
  t.regex(refused.page.html, /关联的身份证号码与一通账号不一致/);
  t.regex(refused.page.html, /回到登录页面/);
  t.is((await local(other.idNumber))?.id, undefined, 'no account for the other number');
  t.truthy(created);
});

test('a cancelled sign-in at the upstream: a page saying so, and the way back', async (t) => {
  const person = await nationalPerson(2);
  const browser = new Browser();
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  let page = await browser.visit(pending.url, {}, REDIRECT_URI);
  page = await browser.visit(
    new URL(/href="(\/interaction\/[^"]+\/upstream\/national)"/.exec(page.html)?.[1] ?? '', page.url).href,
  );
  page = await submit(browser, page, '/abort');
  t.regex(page.html, /您在“国家政务服务平台”取消了登录/);
  const back = /href="(\/interaction\/[^"]+)"/.exec(page.html)?.[1] ?? '';
  const signIn = await browser.visit(new URL(back, a.issuer).href);
  t.regex(signIn.html, /name="password"/, 'back on A’s sign-in page');
  t.truthy(person);
});

test('My page lists the links and removes one (audited); the next sign-in through the upstream links by the rules again', async (t) => {
  const person = await nationalPerson(2);
  await throughUpstream(new Browser(), person);
  const sub = (await local(person.idNumber))?.id ?? '';
  const browser = new Browser();
  // A's own sign-in for My page: the account has no password, so through the upstream too.
  const pending = await browser.visit(`${a.issuer}/account`);
  let page = await browser.visit(
    new URL(/href="(\/interaction\/[^"]+\/upstream\/national)"/.exec(pending.html)?.[1] ?? '', pending.url)
      .href,
  );
  for (let step = 0; step < 4 && !page.url.endsWith('/account'); step++)
    if (page.html.includes('name="password"'))
      page = await submit(browser, page, '/login', { id_number: person.idNumber, password: person.password });
    else if (page.html.includes('/consent"')) page = await submit(browser, page, '/consent');
  page = await browser.visit(`${a.issuer}/account/links`);
  t.regex(page.html, /国家政务服务平台/);
  const csrf = hiddenField(page.html, '_csrf');
  page = await submit(browser, page, '/account/links/national/remove');
  t.regex(page.html, /已解除关联/);
  t.deepEqual(await a.server.container.federation.linksOf(sub), []);
  const audit = await a.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', sub)
    .where('action', 'like', 'federation.%')
    .orderBy('seq')
    .execute();
  t.deepEqual(
    audit.map((row) => row.action),
    ['federation.linked', 'federation.unlinked'],
  );
  const again = await browser.visit(`${a.issuer}/account/links/national/remove`, {
    form: { _csrf: csrf },
  });
  t.is(again.status, 404, 'nothing left to remove');
  // Level 2 at B and here: linked again at once.
  t.true((await throughUpstream(new Browser(), person)).page.url.startsWith(REDIRECT_URI));
  t.is((await a.server.container.federation.linksOf(sub)).length, 1);
});

test('a tampered upstream ID token is refused: wrong iss, aud, nonce, signature, or expired; an upstream that fails is to be tried later', async (t) => {
  const signIn = async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(site, { scope: 'openid profile' });
    const page = await browser.visit(pending.url, {}, REDIRECT_URI);
    const button = /href="(\/interaction\/[^"]+\/upstream\/hostile)"/.exec(page.html)?.[1] ?? '';
    return browser.visit(new URL(button, page.url).href, {}, REDIRECT_URI);
  };
  for (const tamper of ['iss', 'aud', 'nonce', 'signature', 'expired'] as const) {
    const person = newCitizen();
    Object.assign(hostile, {
      tamper,
      person: { sub: `hostile-${tamper}`, id_number: person.idNumber, name: person.name },
    });
    const page = await signIn();
    t.is(page.status, 502, tamper);
    t.regex(page.html, /“某外省平台”返回的登录结果未通过校验，已拒绝/, tamper);
    t.is(await local(person.idNumber), undefined, `${tamper}: no account`);
  }
  // An upstream that fails (a 500, not an answer that fails the checks): try again later.
  for (const tamper of ['token-500', 'userinfo-500'] as const) {
    Object.assign(hostile, { tamper });
    const page = await signIn();
    t.is(page.status, 503, tamper);
    t.is(page.headers?.get('retry-after'), '5', tamper);
    t.regex(page.html, /暂时无法连接“某外省平台”。这不是您的问题，请稍后再试/, tamper);
  }
  // A logout token while its keys cannot be read: 503, which the upstream may retry (400 means
  // never); readable again, this one (signed with a stranger's key) is refused.
  const { privateKey } = await generateKeyPair('ES256');
  const logoutToken = await new SignJWT({
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(hostile.issuer)
    .setAudience('province-a')
    .setSubject('hostile-ok')
    .setIssuedAt()
    .setJti('logout-1')
    .sign(privateKey);
  const logOut = () =>
    fetch(`${a.issuer}/federation/backchannel-logout/hostile`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }),
    });
  Object.assign(hostile, { tamper: 'jwks-500' });
  const unavailable = await logOut();
  t.is(unavailable.status, 503);
  t.is(unavailable.headers.get('retry-after'), '5');
  Object.assign(hostile, { tamper: 'none' });
  t.is((await logOut()).status, 400);
  // The same upstream, untampered: the control that the checks, not the set-up, refused.
  const person = newCitizen();
  Object.assign(hostile, {
    tamper: 'none',
    person: { sub: 'hostile-ok', id_number: person.idNumber, name: person.name },
  });
  const page = await signIn();
  t.true(page.url.startsWith(REDIRECT_URI) || page.html.includes('/consent"'), page.html.slice(0, 200));
  t.like(await local(person.idNumber), { identityLevel: 1 });
});

test('signing out at the upstream ends the session here and reaches this province’s sites', async (t) => {
  const backchannel = await receiver(t.teardown, '/bc');
  const { clientId, clientSecret } = await a.addClient({
    client_name: '公积金服务',
    department: '市住房公积金管理中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    backchannel_logout_uri: backchannel.url,
  });
  const own = await discoverSite(a.issuer, clientId, clientSecret);
  const person = await nationalPerson(2);
  const browser = new Browser();
  await throughUpstream(browser, person);
  // The same browser reaches the second site without signing in again (SSO at A).
  const pending = await authorizationRequest(own, { scope: 'openid profile' });
  let page = await browser.visit(pending.url, {}, REDIRECT_URI);
  if (page.html.includes('/consent"')) page = await submit(browser, page, '/consent', {}, REDIRECT_URI);
  t.true(page.url.startsWith(REDIRECT_URI), 'SSO at A');
  await exchangeCode(own, page.url, pending);

  // The national platform signs the person out everywhere: it tells A, and A tells its sites.
  const bSub = (await b.server.container.accounts.findPersonByIdNumber(person.idNumber as never))?.id ?? '';
  await b.server.container.sites.signOutEverywhere(bSub, '127.0.0.1');
  for (let i = 0; i < 50 && backchannel.received.length === 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  t.is(backchannel.received.length, 1, 'A’s site was told');
  const again = await authorizationRequest(own, { scope: 'openid profile', extra: { prompt: 'none' } });
  const answer = new URL((await browser.visit(again.url, {}, REDIRECT_URI)).url);
  t.is(answer.searchParams.get('error'), 'login_required', 'the session at A is over');
});

test('a forged logout token changes nothing', async (t) => {
  const answer = await fetch(`${a.issuer}/federation/backchannel-logout/national`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }).toString(),
  });
  t.is(answer.status, 400);
  const unknown = await fetch(`${a.issuer}/federation/backchannel-logout/nobody`, { method: 'POST' });
  t.is(unknown.status, 400);
});

test('an upstream nobody on the team wrote: a bare oidc-provider, configured from its documentation', async (t) => {
  const person = newCitizen();
  const browser = new Browser();
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  let page = await browser.visit(pending.url, {}, REDIRECT_URI);
  const button = /href="(\/interaction\/[^"]+\/upstream\/bare)"/.exec(page.html)?.[1] ?? '';
  page = await browser.visit(new URL(button, page.url).href, {}, REDIRECT_URI);
  // Its own development pages: a login (any password), then its consent.
  for (let step = 0; step < 4 && !page.url.startsWith(REDIRECT_URI); step++) {
    const action = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const form: Record<string, string> = page.html.includes('name="login"')
      ? { prompt: 'login', login: person.idNumber, password: 'any' }
      : page.html.includes('/consent"')
        ? { _csrf: hiddenField(page.html, '_csrf') }
        : { prompt: 'consent' };
    page = await browser.visit(new URL(action, page.url).href, { form }, REDIRECT_URI);
  }
  t.true(page.url.startsWith(REDIRECT_URI), page.html.slice(0, 300));
  const tokens = await exchangeCode(site, page.url, pending);
  t.deepEqual(tokens.claims()?.amr, ['fed']);
  t.like(await local(person.idNumber), { name: '外省居民', identityLevel: 2 });
});

test('a federation partner gets pairwise subs only; a manifest asking otherwise is refused', async (t) => {
  const person = await nationalPerson(2);
  await throughUpstream(new Browser(), person);
  const bSub = (await b.server.container.accounts.findPersonByIdNumber(person.idNumber as never))?.id ?? '';
  const created = await local(person.idNumber);
  const [link] = await a.server.container.database.db
    .selectFrom('upstream_links')
    .select('upstream_sub')
    .where('person_id', '=', created?.id ?? '')
    .execute();
  t.truthy(link);
  t.not(link?.upstream_sub, bSub, 'not B’s account id: a pairwise sub');
  await t.throwsAsync(
    b.addClient({
      client_name: '另一省平台',
      department: '某省政务服务数据管理局',
      region_code: '440000',
      redirect_uris: ['https://idp.example.gov.cn/callback'],
      scope: 'openid profile',
      federation_partner: true,
    }),
    { message: /pairwise/ },
  );
});

test('the admin API lists the upstreams, never their secrets', async (t) => {
  const token = await departmentToken(a, '440000', 'admin:read');
  const answer = await adminApi(a, token, '/upstreams');
  t.is(answer.status, 200);
  const text = await answer.text();
  t.false(text.includes(SECRET), 'no secret');
  t.false(text.includes(String(privateJwk.d)), 'no private key');
  const { items } = JSON.parse(text) as { items: Array<Record<string, unknown>> };
  t.deepEqual(
    items.map((item) => item.id),
    ['bare', 'hostile', 'national'],
  );
  t.like(items[2], { issuer: b.issuer, client_id: 'province-a', max_identity_level: 2 });
  const audit = await a.server.container.database.db
    .selectFrom('audit_events')
    .select(['action', 'details'])
    .where('action', 'like', 'upstream.%')
    .orderBy('seq')
    .execute();
  t.deepEqual(
    audit.map((row) => `${row.action} ${(row.details as { upstream: string }).upstream}`),
    ['upstream.added bare', 'upstream.added hostile', 'upstream.added national'],
  );
  t.false(JSON.stringify(audit).includes(SECRET), 'no secret in the audit trail');
});

test('signing out here offers to sign out at the upstream too', async (t) => {
  const person = await nationalPerson(2);
  const browser = new Browser();
  await throughUpstream(browser, person);
  const confirm = await browser.visit(`${a.issuer}/session/end`);
  t.true(confirm.html.includes('op.logoutForm'));
  const done = await browser.visit(new URL(formAction(confirm.html, '/session/end/confirm'), a.issuer).href, {
    form: { xsrf: hiddenField(confirm.html, 'xsrf'), logout: 'yes' },
  });
  t.regex(done.html, /那里的登录仍然有效/);
  t.true(
    done.html.includes(`href="${b.issuer}/session/end?client_id=province-a"`),
    'a link to the national platform’s end-session endpoint',
  );
  // A person who signed in with a password here is offered nothing of the kind.
  const local = newCitizen();
  await a.createCitizen(local);
  const plain = new Browser();
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  await walkAuthorization(plain, pending.url, local);
  const again = await plain.visit(`${a.issuer}/session/end`);
  const over = await plain.visit(new URL(formAction(again.html, '/session/end/confirm'), a.issuer).href, {
    form: { xsrf: hiddenField(again.html, 'xsrf'), logout: 'yes' },
  });
  t.notRegex(over.html, /那里的登录仍然有效/);
});

test('the site’s max_age and prompt=login are passed on to the upstream', async (t) => {
  const browser = new Browser();
  const pending = await authorizationRequest(site, {
    scope: 'openid profile',
    extra: { prompt: 'login', max_age: '300' },
  });
  const page = await browser.visit(pending.url, {}, REDIRECT_URI);
  const button = /href="(\/interaction\/[^"]+\/upstream\/national)"/.exec(page.html)?.[1] ?? '';
  const answer = await browser.request(new URL(button, page.url).href);
  const upstream = new URL(answer.headers.get('location') ?? '');
  t.is(upstream.origin, b.issuer);
  t.is(upstream.searchParams.get('prompt'), 'login');
  t.is(upstream.searchParams.get('max_age'), '300');
  t.is(upstream.searchParams.get('code_challenge_method'), 'S256');
  t.truthy(upstream.searchParams.get('nonce'));
});

test('a callback nobody started, and an upstream that does not exist, are refused and change nothing', async (t) => {
  const stray = await new Browser().visit(`${a.issuer}/federation/callback?state=forged&code=x`);
  t.is(stray.status, 400);
  t.regex(stray.html, /登录请求已过期或无效/);
  t.is((await new Browser().visit(`${a.issuer}/federation/callback`)).status, 400);
  const browser = new Browser();
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const page = await browser.visit(pending.url, {}, REDIRECT_URI);
  const uid = /\/interaction\/([^/"]+)\/upstream\/national/.exec(page.html)?.[1] ?? '';
  const unknown = await browser.visit(`${a.issuer}/interaction/${uid}/upstream/nowhere`);
  t.is(unknown.status, 400);
  const returned = await browser.visit(`${a.issuer}/interaction/${uid}/upstream-return`);
  t.is(returned.status, 400, 'no outcome waiting for this interaction');
});
