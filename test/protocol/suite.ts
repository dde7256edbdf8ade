/**
 * The protocol suite: every test drives Yitong with a real relying party (openid-client) and a
 * cookie-keeping user agent. It runs once per storage backend (see *.test.ts beside it).
 */
import type { TestFn } from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { startDemoSite } from '../../clients/demo-site/site.ts';
import { Browser, formAction, hiddenField } from '../helpers/browser.ts';
import type { Backend } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  type Site,
  walkAuthorization,
} from '../helpers/rp.ts';
import { freePort, startYitong, type Yitong } from '../helpers/yitong.ts';

const manifest = (name: string, extra: Record<string, unknown> = {}) => ({
  client_name: name,
  department: '测试部门',
  region_code: '440100',
  redirect_uris: [REDIRECT_URI],
  post_logout_redirect_uris: ['http://localhost:8080/'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid profile phone offline_access',
  ...extra,
});

export function protocolSuite(test: TestFn, backend: Backend) {
  let yitong: Yitong;
  let siteA: Site;
  let siteB: Site;

  async function citizen() {
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    await yitong.provePhone(sub, person.phone);
    return { ...person, sub };
  }

  test.before(async () => {
    yitong = await startYitong(backend);
    const a = await yitong.addClient(manifest('站点甲'));
    const b = await yitong.addClient(manifest('站点乙'));
    siteA = await discoverSite(yitong.issuer, a.clientId, a.clientSecret);
    siteB = await discoverSite(yitong.issuer, b.clientId, b.clientSecret);
  });
  test.after.always(() => yitong?.stop());

  test('code flow with PKCE: the ID token verifies against the JWKS and userinfo holds the consented claims', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const pending = await authorizationRequest(siteA, { scope: 'openid profile' });
    const walk = await walkAuthorization(browser, pending.url, person);
    t.deepEqual(walk.pages, ['login', 'consent']);
    const tokens = await exchangeCode(siteA, walk.callbackUrl, pending);

    const jwks = createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token as string, jwks, {
      issuer: yitong.issuer,
      audience: siteA.clientId,
    });
    t.is(protectedHeader.alg, 'ES256');
    t.is(payload.sub, person.sub);
    t.is(payload.acr, 'urn:yitong:acr:pwd');
    t.deepEqual(payload.amr, ['pwd']);

    const userinfo = await client.fetchUserInfo(siteA.config, tokens.access_token, person.sub);
    t.is(userinfo.name, person.name);
    t.is(
      userinfo.birthdate,
      `${person.idNumber.slice(6, 10)}-${person.idNumber.slice(10, 12)}-${person.idNumber.slice(12, 14)}`,
    );
    t.is(userinfo.identity_level, 1);
    t.is(userinfo.phone_number, undefined, 'phone was not requested');
    t.is(userinfo.id_number, undefined);
    t.false(
      JSON.stringify(payload).includes(person.idNumber),
      'the identity number is never in the ID token',
    );
  });

  test('refresh tokens rotate: the new one works, the old one stops working', async (t) => {
    const person = await citizen();
    const pending = await authorizationRequest(siteA, {
      scope: 'openid profile phone offline_access',
      extra: { prompt: 'consent' },
    });
    const walk = await walkAuthorization(new Browser(), pending.url, person);
    const first = await exchangeCode(siteA, walk.callbackUrl, pending);
    t.truthy(first.refresh_token);

    const second = await client.refreshTokenGrant(siteA.config, first.refresh_token as string);
    t.truthy(second.refresh_token);
    t.not(second.refresh_token, first.refresh_token);
    const userinfo = await client.fetchUserInfo(siteA.config, second.access_token, person.sub);
    t.is(userinfo.phone_number, `+86${person.phone}`);

    const reuse = await t.throwsAsync(client.refreshTokenGrant(siteA.config, first.refresh_token as string));
    t.is((reuse as client.ResponseBodyError).error, 'invalid_grant');
  });

  test('SSO: after signing in for site A, site B gets a code without a sign-in page, with the same sub', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const pendingA = await authorizationRequest(siteA);
    const tokensA = await exchangeCode(
      siteA,
      (await walkAuthorization(browser, pendingA.url, person)).callbackUrl,
      pendingA,
    );

    const pendingB = await authorizationRequest(siteB);
    const walkB = await walkAuthorization(browser, pendingB.url);
    t.deepEqual(walkB.pages, ['consent'], 'B asks only for consent, never for the password');
    const tokensB = await exchangeCode(siteB, walkB.callbackUrl, pendingB);
    t.is(tokensB.claims()?.sub, tokensA.claims()?.sub);

    const again = await authorizationRequest(siteB);
    const walkAgain = await walkAuthorization(browser, again.url);
    t.deepEqual(walkAgain.pages, [], 'consent is remembered');
    t.truthy(new URL(walkAgain.callbackUrl).searchParams.get('code'));
  });

  test('consent is remembered across sign-in sessions, and asked again only for new scopes', async (t) => {
    const person = await citizen();
    const first = await authorizationRequest(siteA, { scope: 'openid profile' });
    t.deepEqual((await walkAuthorization(new Browser(), first.url, person)).pages, ['login', 'consent']);
    const second = await authorizationRequest(siteA, { scope: 'openid profile' });
    t.deepEqual((await walkAuthorization(new Browser(), second.url, person)).pages, ['login']);
    const wider = await authorizationRequest(siteA, { scope: 'openid profile phone' });
    t.deepEqual((await walkAuthorization(new Browser(), wider.url, person)).pages, ['login', 'consent']);
  });

  test('single logout: RP-initiated logout at A sends verified back-channel logout tokens to A and B and ends the session', async (t) => {
    const [portA, portB] = [await freePort(), await freePort()];
    const urlA = `http://localhost:${portA}`;
    const urlB = `http://localhost:${portB}`;
    const demoManifest = (url: string, name: string) =>
      manifest(name, {
        redirect_uris: [`${url}/callback`],
        post_logout_redirect_uris: [`${url}/`],
        backchannel_logout_uri: `${url}/backchannel-logout`,
        backchannel_logout_session_required: true,
        scope: 'openid profile phone',
      });
    const a = await yitong.addClient(demoManifest(urlA, '演示甲'));
    const b = await yitong.addClient(demoManifest(urlB, '演示乙'));
    const demoA = await startDemoSite({ issuer: yitong.issuer, ...rename(a), port: portA, title: '演示甲' });
    const demoB = await startDemoSite({ issuer: yitong.issuer, ...rename(b), port: portB, title: '演示乙' });
    t.teardown(() => Promise.all([demoA.close(), demoB.close()]));

    const person = await citizen();
    const browser = new Browser();
    const signedInA = await signInAtDemo(browser, demoA.url, person);
    t.true(signedInA.includes(person.name));
    const signedInB = await signInAtDemo(browser, demoB.url);
    t.true(signedInB.includes(person.name), 'B signs the person in without a password');

    const home = await browser.visit(`${demoA.url}/`);
    const confirm = await browser.visit(new URL(formAction(home.html, '/logout'), demoA.url).href, {
      form: {},
    });
    t.true(confirm.html.includes('op.logoutForm'), 'the provider asks to confirm');
    const done = await browser.visit(
      new URL(formAction(confirm.html, '/session/end/confirm'), yitong.issuer).href,
      {
        form: { xsrf: hiddenField(confirm.html, 'xsrf'), logout: 'yes' },
      },
    );
    t.is(done.url, `${demoA.url}/`);

    t.is(demoA.logoutTokens.length, 1);
    t.is(demoB.logoutTokens.length, 1);
    t.truthy(demoB.logoutTokens[0]?.sid);
    t.false((await browser.visit(`${demoB.url}/`)).html.includes(person.name), 'B signed the person out');
    const pending = await authorizationRequest(siteA);
    await t.throwsAsync(walkAuthorization(browser, pending.url), { message: /asked to sign in/ });
  });

  test.serial('sessions and grants survive a restart of the provider', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const pending = await authorizationRequest(siteA, {
      scope: 'openid offline_access',
      extra: { prompt: 'consent' },
    });
    const tokens = await exchangeCode(
      siteA,
      (await walkAuthorization(browser, pending.url, person)).callbackUrl,
      pending,
    );

    await yitong.restart();

    const again = await authorizationRequest(siteA, { scope: 'openid' });
    const walk = await walkAuthorization(browser, again.url);
    t.deepEqual(walk.pages, [], 'still signed in, consent still remembered');
    const refreshed = await client.refreshTokenGrant(siteA.config, tokens.refresh_token as string);
    t.truthy(refreshed.access_token);
  });

  test('a replayed authorization code is refused and what it issued is revoked', async (t) => {
    const person = await citizen();
    const pending = await authorizationRequest(siteA, {
      scope: 'openid offline_access',
      extra: { prompt: 'consent' },
    });
    const walk = await walkAuthorization(new Browser(), pending.url, person);
    const tokens = await exchangeCode(siteA, walk.callbackUrl, pending);
    const replay = await t.throwsAsync(exchangeCode(siteA, walk.callbackUrl, pending));
    t.is((replay as client.ResponseBodyError).error, 'invalid_grant');
    await t.throwsAsync(client.fetchUserInfo(siteA.config, tokens.access_token, person.sub));
    const introspection = await client.tokenIntrospection(siteA.config, tokens.refresh_token as string);
    t.false(introspection.active);
  });

  test('introspection and revocation work for a site', async (t) => {
    const person = await citizen();
    const pending = await authorizationRequest(siteA);
    const tokens = await exchangeCode(
      siteA,
      (await walkAuthorization(new Browser(), pending.url, person)).callbackUrl,
      pending,
    );
    const active = await client.tokenIntrospection(siteA.config, tokens.access_token);
    t.true(active.active);
    t.is(active.sub, person.sub);
    await client.tokenRevocation(siteA.config, tokens.access_token);
    t.false((await client.tokenIntrospection(siteA.config, tokens.access_token)).active);
  });

  test('bad requests get a clear error, never a 500', async (t) => {
    const browser = new Browser();
    const good = new URL((await authorizationRequest(siteA)).url);

    const unknownClient = new URL(good);
    unknownClient.searchParams.set('client_id', 'no-such-site');
    const unknown = await browser.visit(unknownClient.href);
    t.is(unknown.status, 400);
    t.true(unknown.html.includes('invalid_client'));
    t.regex(unknown.html, /没有在一通登记的网站/);
    t.regex(unknown.html, /<a href="\/">/, 'a way home');

    const wrongRedirect = new URL(good);
    wrongRedirect.searchParams.set('redirect_uri', 'http://localhost:8080/elsewhere');
    const redirect = await browser.visit(wrongRedirect.href);
    t.is(redirect.status, 400);
    t.true(redirect.html.includes('invalid_redirect_uri'));
    t.regex(redirect.html, /没有在一通登记的网址。为保护您的账号，一通没有跳转/);
    t.notRegex(redirect.html, /localhost:8080\/elsewhere/, 'the unregistered address is not even linked');

    // OpenID Connect Core 3.1.2.1: redirect_uri is required, also where one is registered.
    const noRedirect = new URL(good);
    noRedirect.searchParams.delete('redirect_uri');
    const missing = await browser.visit(noRedirect.href, {}, REDIRECT_URI);
    t.is(missing.status, 400);
    t.false(missing.url.startsWith(REDIRECT_URI), 'no code, no redirect');
    t.true(missing.html.includes('invalid_request'));

    const noPkce = new URL(good);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const pkce = await browser.visit(noPkce.href, {}, REDIRECT_URI);
    t.is(new URL(pkce.url).searchParams.get('error'), 'invalid_request');
    t.regex(new URL(pkce.url).searchParams.get('error_description') ?? '', /PKCE/);
  });

  /** Posts the sign-in form of `login` with a wrong password. */
  const wrongPassword = (browser: Browser, login: { html: string; url: string }, idNumber: string) =>
    browser.visit(new URL(formAction(login.html, '/login'), login.url).href, {
      form: { _csrf: hiddenField(login.html, '_csrf'), id_number: idNumber, password: 'not the password' },
    });

  test('a wrong password is refused with a clear message and starts no session', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const pending = await authorizationRequest(siteA);
    const login = await browser.visit(pending.url);
    const refused = await wrongPassword(browser, login, person.idNumber);
    t.is(refused.status, 401);
    t.true(refused.html.includes('身份证号码或密码不正确'));
    await t.throwsAsync(walkAuthorization(browser, (await authorizationRequest(siteA)).url), {
      message: /asked to sign in/,
    });
  });

  test('a site asking ui_locales=en gets the sign-in pages in English; the reader’s own choice wins', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const pending = await authorizationRequest(siteA, { extra: { ui_locales: 'en-US zh-CN' } });
    const login = await browser.visit(pending.url);
    t.regex(login.html, /<html lang="en"/);
    const refused = await wrongPassword(browser, login, person.idNumber);
    t.is(refused.status, 401);
    t.regex(refused.html, /<html lang="en"/, 'the answer to the form too');
    t.regex(refused.html, /identity number or password/i);
    const chosen = await browser.visit(`${login.url}?lang=zh-CN`);
    t.regex(chosen.html, /<html lang="zh-CN"/);
  });

  test('registering an identity number twice gives no second account, and the same answer as the first time', async (t) => {
    const person = newCitizen();
    const browser = new Browser();
    const register = async () => {
      const page = await browser.visit(`${yitong.issuer}/register`);
      return browser.visit(`${yitong.issuer}/register`, {
        form: {
          _csrf: hiddenField(page.html, '_csrf'),
          id_number: person.idNumber.toLowerCase(),
          name: person.name,
          phone: person.phone,
          password: person.password,
          password_confirm: person.password,
        },
      });
    };
    const first = await register();
    t.is(first.status, 200);
    const again = await register();
    t.is(again.status, 200);
    const lead = (html: string) =>
      html.match(/<main[\s\S]*<\/main>/)?.[0].replace(/name="_csrf" value="[^"]*"/, '');
    t.is(lead(again.html), lead(first.html), 'nothing tells that the number had an account');
    const count = await yitong.server.container.database.db
      .selectFrom('people')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('id_number_hmac', '=', yitong.server.container.sealer.index(person.idNumber))
      .executeTakeFirstOrThrow();
    t.is(Number(count.n), 1);
  });
}

function rename(client: { clientId: string; clientSecret: string }) {
  return { clientId: client.clientId, clientSecret: client.clientSecret };
}

/** Signs in at a demo site; returns the site's page after the callback. */
async function signInAtDemo(
  browser: Browser,
  siteUrl: string,
  credentials?: { idNumber: string; password: string },
) {
  const walk = await walkAuthorization(browser, `${siteUrl}/login`, credentials, `${siteUrl}/callback`);
  const back = await browser.visit(walk.callbackUrl);
  return back.html;
}
