/**
 * RP-initiated logout as relying parties send it (openid-client builds every request): a hint
 * signed before the site's ID-token algorithm changed, a hint Yitong cannot verify, a request the
 * site got wrong, and offline access that outlives the session.
 */
import test from 'ava';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { Browser, formAction, hiddenField, type Page } from '../helpers/browser.ts';
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

const AFTER_LOGOUT = 'http://localhost:8080/';

const manifest = (name: string, extra: Record<string, unknown> = {}) => ({
  client_name: name,
  department: '测试部门',
  region_code: '440100',
  redirect_uris: [REDIRECT_URI],
  post_logout_redirect_uris: [AFTER_LOGOUT],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile offline_access',
  ...extra,
});

let yitong: Yitong;

test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

async function newSite(name: string, extra: Record<string, unknown> = {}) {
  const { clientId, clientSecret } = await yitong.addClient(manifest(name, extra));
  return discoverSite(yitong.issuer, clientId, clientSecret);
}

async function citizen() {
  const person = newCitizen();
  return { ...person, sub: await yitong.createCitizen(person) };
}

/** Signs `browser` in at `site` (with the password when asked); the token response. */
async function signIn(
  site: Site,
  browser: Browser,
  person?: { idNumber: string; password: string },
  scope = 'openid',
) {
  const pending = await authorizationRequest(site, {
    scope,
    ...(scope.includes('offline_access') && { extra: { prompt: 'consent' } }),
  });
  return exchangeCode(site, (await walkAuthorization(browser, pending.url, person)).callbackUrl, pending);
}

/** The site's logout link, as openid-client builds it. */
function logoutUrl(site: Site, params: Record<string, string>) {
  return client.buildEndSessionUrl(site.config, params).href;
}

/** Confirms the provider's logout page; the page (or the site's address) it ends at. */
function confirmLogout(browser: Browser, confirm: Page): Promise<Page> {
  return browser.visit(
    new URL(formAction(confirm.html, '/session/end/confirm'), yitong.issuer).href,
    { form: { xsrf: hiddenField(confirm.html, 'xsrf'), logout: 'yes' } },
    AFTER_LOGOUT,
  );
}

async function stillSignedIn(site: Site, browser: Browser): Promise<boolean> {
  const pending = await authorizationRequest(site);
  return walkAuthorization(browser, pending.url).then(
    () => true,
    (error: Error) => {
      if (/asked to sign in/.test(error.message)) return false;
      throw error;
    },
  );
}

/** An ID token as Yitong's would look for `site`, signed with a key Yitong never had but naming one of its kids. */
async function forgedIdToken(aud: string, sub: string) {
  const jwks = (await (await fetch(`${yitong.issuer}/jwks`)).json()) as {
    keys: Array<{ kid: string; kty: string }>;
  };
  const kid = jwks.keys.find((key) => key.kty === 'EC')?.kid;
  const { privateKey } = await generateKeyPair('ES256');
  return new SignJWT({ sub })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(yitong.issuer)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
}

test('a site whose ID-token algorithm changed still signs its people out with the sign-in’s ID token', async (t) => {
  const site = await newSite('换算法的网站');
  const person = await citizen();
  const browser = new Browser();
  const signedIn = await signIn(site, browser, person);
  const hint = signedIn.id_token as string;
  t.is(decodeProtectedHeader(hint).alg, 'ES256');

  // The operator moves the site to RS256 (a manifest applied again, as `yitong clients sync` does).
  await yitong.addClient(
    manifest('换算法的网站', { client_id: site.clientId, id_token_signed_response_alg: 'RS256' }),
  );
  const provider = yitong.server.container.provider;
  for (
    let i = 0;
    i < 50 && (await provider.Client.find(site.clientId))?.idTokenSignedResponseAlg !== 'RS256';
    i++
  )
    await new Promise((resolve) => setTimeout(resolve, 100));

  // The old hint still identifies the person at the authorization endpoint (prompt=none)…
  const silent = await authorizationRequest(site, {
    scope: 'openid',
    extra: { prompt: 'none', id_token_hint: hint },
  });
  const again = await walkAuthorization(browser, silent.url);
  const renewed = await exchangeCode(site, again.callbackUrl, silent);
  t.is(decodeProtectedHeader(renewed.id_token as string).alg, 'RS256', 'new ID tokens are RS256');

  // …and signs the person out, back to the site with its state.
  const confirm = await browser.visit(
    logoutUrl(site, { id_token_hint: hint, post_logout_redirect_uri: AFTER_LOGOUT, state: 'st-1' }),
  );
  t.is(confirm.status, 200, confirm.html.slice(0, 400));
  t.true(confirm.html.includes('op.logoutForm'));
  t.false(confirm.html.includes('data-detail'), 'nothing was set aside');
  const done = await confirmLogout(browser, confirm);
  t.is(done.url, `${AFTER_LOGOUT}?state=st-1`);
  t.false(await stillSignedIn(site, browser));
});

test('an ID token Yitong did not sign for the site is still no hint at the authorization endpoint', async (t) => {
  const site = await newSite('提示核验');
  const person = await citizen();
  const browser = new Browser();
  await signIn(site, browser, person);
  for (const hint of [await forgedIdToken(site.clientId, person.sub), 'a.b.c']) {
    const silent = await authorizationRequest(site, {
      scope: 'openid',
      extra: { prompt: 'none', id_token_hint: hint },
    });
    const walk = await walkAuthorization(browser, silent.url);
    const answer = new URL(walk.callbackUrl).searchParams;
    t.is(answer.get('error'), 'invalid_request');
    t.regex(answer.get('error_description') ?? '', /id_token_hint/);
  }
});

test('a logout hint Yitong cannot verify is set aside: the person is asked, and signed out', async (t) => {
  const site = await newSite('提示无效的网站');
  const other = await newSite('另一个网站');
  const person = await citizen();
  const browser = new Browser();
  await signIn(site, browser, person);
  await signIn(other, browser);
  const hints = {
    garbage: 'a.b.c',
    'not a JWT': 'not-a-jwt',
    forged: await forgedIdToken(site.clientId, person.sub),
    'for no site Yitong knows': await forgedIdToken('no-such-site', person.sub),
  };
  // Without client_id nothing ties the return address to a site: the person stays on Yitong.
  let last: Page | undefined;
  for (const [what, hint] of Object.entries(hints)) {
    const url = new URL(
      logoutUrl(site, { id_token_hint: hint, post_logout_redirect_uri: AFTER_LOGOUT, state: 'st-2' }),
    );
    url.searchParams.delete('client_id');
    const page = await browser.visit(url.href);
    t.is(page.status, 200, `${what}: ${page.html.slice(0, 400)}`);
    t.true(page.html.includes('op.logoutForm'), `${what}: the person is asked`);
    t.regex(page.html, /一通无法核实是哪个网站请您退出/, what);
    t.regex(page.html, /给网站开发人员的说明：id_token_hint /, what);
    last = page;
  }
  const done = await confirmLogout(browser, last as Page);
  t.true(done.url.startsWith(`${yitong.issuer}/session/end/success`), done.url);
  t.regex(done.html, /您已退出一通账号/);
  t.false(await stillSignedIn(site, browser));
  t.false(await stillSignedIn(other, browser));

  // With client_id (openid-client always sends it), the address that site registered is followed.
  await signIn(site, browser, person);
  const named = await browser.visit(
    logoutUrl(site, { id_token_hint: 'a.b.c', post_logout_redirect_uri: AFTER_LOGOUT, state: 'st-3' }),
  );
  t.true(named.html.includes('op.logoutForm'));
  t.notRegex(named.html, /一通无法核实是哪个网站请您退出/);
  t.regex(named.html, /给网站开发人员的说明：id_token_hint could not be decoded/);
  t.is((await confirmLogout(browser, named)).url, `${AFTER_LOGOUT}?state=st-3`);
  t.false(await stillSignedIn(site, browser));

  // Not signed in: nothing to ask, and no error either (the engine's form goes on by itself).
  const stranger = await new Browser().visit(
    logoutUrl(site, { id_token_hint: 'a.b.c', post_logout_redirect_uri: AFTER_LOGOUT }),
  );
  t.is(stranger.status, 200);
  t.true(stranger.html.includes('/session/end/confirm'));
});

test('a logout request the site got wrong says so in sign-out words, with the reason for its developers', async (t) => {
  const site = await newSite('退出有误的网站');
  const other = await newSite('别的网站');
  const person = await citizen();
  const browser = new Browser();
  const { id_token: hint } = await signIn(site, browser, person);

  const unregistered = await browser.visit(
    logoutUrl(site, {
      id_token_hint: hint as string,
      post_logout_redirect_uri: 'http://localhost:8080/elsewhere',
    }),
  );
  t.is(unregistered.status, 400);
  t.regex(unregistered.html, /网站发来的退出请求有误（invalid_request）/);
  t.notRegex(unregistered.html, /登录请求/);
  t.regex(unregistered.html, /给网站开发人员的说明：post_logout_redirect_uri not registered/);
  t.regex(unregistered.html, /您仍登录着一通/);
  t.regex(
    unregistered.html,
    /<a class="button" href="\/session\/end">退出登录<\/a>/,
    'a way to sign out anyway',
  );
  t.notRegex(unregistered.html, /\bat \S+\.js:\d+/, 'never a stack');

  const english = await browser.visit(
    logoutUrl(site, {
      id_token_hint: hint as string,
      post_logout_redirect_uri: 'http://localhost:8080/elsewhere',
      ui_locales: 'en',
    }),
  );
  t.regex(english.html, /The sign-out request from the website is not valid \(invalid_request\)/);
  t.regex(english.html, /For the site’s developers: post_logout_redirect_uri not registered/);

  const mismatch = await browser.visit(
    logoutUrl(site, { id_token_hint: hint as string, client_id: other.clientId }),
  );
  t.is(mismatch.status, 400);
  t.regex(mismatch.html, /给网站开发人员的说明：client_id does not match the provided id_token_hint/);

  const unknown = await new Browser().visit(
    `${yitong.issuer}/session/end?client_id=no-such-site&ui_locales=en`,
  );
  t.is(unknown.status, 400);
  t.regex(unknown.html, /The sign-out request from the website is not valid \(invalid_client\)/);
  t.notRegex(unknown.html, /sign-in request/);
  t.notRegex(unknown.html, /button/, 'not signed in: nothing to sign out of');

  // The authorization endpoint's errors give their reason too.
  const noRedirect = new URL((await authorizationRequest(site)).url);
  noRedirect.searchParams.delete('redirect_uri');
  const missing = await browser.visit(noRedirect.href, {}, REDIRECT_URI);
  t.is(missing.status, 400);
  t.regex(missing.html, /网站发来的登录请求有误（invalid_request）/);
  t.regex(missing.html, /给网站开发人员的说明：missing required parameter &#39;redirect_uri&#39;/);
  t.true(await stillSignedIn(site, browser), 'none of this signed the person out');
});

test('signing out at a site leaves other sites’ offline access, and their refreshes no longer name the ended session', async (t) => {
  const backchannel = await receiver(t.teardown);
  const offline = await newSite('公积金提醒', {
    backchannel_logout_uri: backchannel.url,
    backchannel_logout_session_required: true,
  });
  const site = await newSite('办事大厅');
  const person = await citizen();
  const browser = new Browser();
  const first = await signIn(offline, browser, person, 'openid offline_access');
  const sid = first.claims()?.sid;
  t.truthy(sid, 'the site asked for sid');
  const during = await client.refreshTokenGrant(offline.config, first.refresh_token as string);
  t.is(during.claims()?.sid, sid, 'while the session lasts, refreshes name it');

  const { id_token: hint } = await signIn(site, browser);
  const confirm = await browser.visit(
    logoutUrl(site, { id_token_hint: hint as string, post_logout_redirect_uri: AFTER_LOGOUT }),
  );
  t.regex(confirm.html, /您曾允许公积金提醒长期访问您的资料（离线访问）。退出登录不会收回这项授权/);
  t.is((await confirmLogout(browser, confirm)).url, AFTER_LOGOUT);
  t.is(backchannel.received.length, 1, 'the offline site is told the session ended');
  t.is(decodeJwt(backchannel.received[0]?.form.get('logout_token') as string).sid, sid);

  const after = await client.refreshTokenGrant(offline.config, during.refresh_token as string);
  t.truthy(after.access_token, 'offline access outlives the session');
  t.is(after.claims()?.sub, person.sub);
  t.is(after.claims()?.sid, undefined, 'no sid of a session that ended');
  const later = await client.refreshTokenGrant(offline.config, after.refresh_token as string);
  t.is(later.claims()?.sid, undefined);
  t.false(await stillSignedIn(offline, browser));
});

test('a hostile logout request gets a clear answer, never a 500', async (t) => {
  const site = await newSite('乱发请求的网站');
  const hostile: Array<Record<string, string>> = [
    { id_token_hint: `${'a'.repeat(3000)}.${'b'.repeat(3000)}.c` },
    { id_token_hint: `eyJhbGciOiJub25lIn0.${Buffer.from('{"aud":["x","y"]}').toString('base64url')}.` },
    { id_token_hint: `e30.${Buffer.from('{"aud":"x\\u0000"}').toString('base64url')}.e30` },
    { id_token_hint: await forgedIdToken(site.clientId, 'x'), client_id: 'no-such-site' },
  ];
  for (const params of hostile) {
    const page = await new Browser().visit(
      `${yitong.issuer}/session/end?${new URLSearchParams(params)}`,
      {},
      AFTER_LOGOUT,
    );
    t.true(page.status < 500, `${page.status} for ${JSON.stringify(params).slice(0, 80)}`);
  }
  const twice = await new Browser().visit(
    `${yitong.issuer}/session/end?id_token_hint=a.b.c&id_token_hint=a.b.c`,
  );
  t.is(twice.status, 400);
  t.regex(twice.html, /id_token_hint/);
});
