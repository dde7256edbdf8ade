/**
 * A site sends its authorization and logout requests as a form POST (OpenID Connect Core
 * 3.1.2.1, RP-Initiated Logout §2), from another site (127.0.0.1, where the provider is at
 * localhost), in Debian's Chromium: the person's session is recognised without the session
 * cookie ever being `SameSite=None`. A body that is not a form, too large or not UTF-8 is
 * refused before anything is read.
 */
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newProfile, signInWithPassword } from '../helpers/chromium.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI, type Site } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

/** The site's own pages: another site than the provider's (localhost), answered by the browser profile. */
const SITE = 'http://127.0.0.1:8081';
const LOGGED_OUT = 'http://localhost:8080/logged-out';

let yitong: Yitong;
let chromium: Browser;
let site: Site;

test.before(async () => {
  [yitong, chromium] = await Promise.all([startYitong('pglite'), launchChromium()]);
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '公积金查询',
    department: '住房公积金管理中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [LOGGED_OUT],
    scope: 'openid profile',
  });
  site = await discoverSite(yitong.issuer, clientId, clientSecret);
});
test.after.always(async () => {
  await chromium?.close();
  await yitong?.stop();
});

/** Opens a page of the site whose button posts `fields` to `action`, and presses it. */
async function postFromSite(page: Page, action: string, fields: Record<string, string>) {
  const attribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${attribute(name)}" value="${attribute(value)}">`)
    .join('');
  await page.context().unroute(`${SITE}/**`);
  await page.context().route(`${SITE}/**`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><form method="post" action="${attribute(action)}">${inputs}<button>继续</button></form>`,
    }),
  );
  await page.goto(`${SITE}/start`);
  await page.getByRole('button', { name: '继续' }).click();
}

test('a site posts its authorization and logout requests from another site: the session is recognised, then ended', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const { page } = await newProfile(chromium);
  const toSite = (url: URL) => url.href.startsWith(REDIRECT_URI);

  // Signed in once, by a link, as usual.
  const first = await authorizationRequest(site, { scope: 'openid profile' });
  await page.goto(first.url);
  await signInWithPassword(page, person);
  await page.getByRole('button', { name: '同意并继续' }).click();
  await page.waitForURL(toSite);
  const cookies = await page.context().cookies(yitong.issuer);
  t.true(cookies.length > 0 && cookies.every((cookie) => cookie.sameSite === 'Lax'), 'never SameSite=None');

  // The same request posted from the site's page: straight back with a code, no sign-in page.
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const url = new URL(pending.url);
  await postFromSite(page, `${url.origin}${url.pathname}`, Object.fromEntries(url.searchParams));
  await page.waitForURL((at) => toSite(at) || at.pathname.startsWith('/interaction/'));
  t.true(toSite(new URL(page.url())), `came back to the site, not ${page.url()}`);
  const tokens = await exchangeCode(site, page.url(), pending);
  t.truthy(tokens.claims()?.sub, 'the code gives an ID token');

  // Logout posted from the site: the person confirms, and the session is over.
  await postFromSite(page, `${yitong.issuer}/session/end`, {
    id_token_hint: String(tokens.id_token),
    post_logout_redirect_uri: LOGGED_OUT,
    state: 'bye',
  });
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.waitForURL((at) => at.href.startsWith(LOGGED_OUT));
  t.is(new URL(page.url()).searchParams.get('state'), 'bye');
  const again = await authorizationRequest(site, { scope: 'openid profile' });
  await page.goto(again.url);
  await page.getByLabel('居民身份证号码').waitFor();
  t.regex(new URL(page.url()).pathname, /^\/interaction\//, 'signed out: asked to sign in again');
});

test('a posted request that is not a form, too large or not UTF-8 is refused with the reason', async (t) => {
  const post = (body: BodyInit, type: string, query = '') =>
    fetch(`${yitong.issuer}/auth${query}`, {
      method: 'POST',
      headers: { 'content-type': type, accept: 'text/html' },
      body,
      redirect: 'manual',
    });
  const json = await post(JSON.stringify({ client_id: site.clientId }), 'application/json');
  t.is(json.status, 415);
  t.regex(await json.text(), /application\/x-www-form-urlencoded/);

  // Past 6 KiB, or past 12 KiB of body, the same answer: use PAR.
  for (const size of [7000, 20_000]) {
    const large = await post(
      `client_id=${site.clientId}&login_hint=${'x'.repeat(size)}`,
      'application/x-www-form-urlencoded',
    );
    t.is(large.status, 413);
    t.regex(await large.text(), /PAR/);
  }

  // Bytes that are not UTF-8, raw or percent-encoded (a GBK page's 中): refused, saying so.
  for (const body of [Buffer.from([0x63, 0x3d, 0xd6, 0xd0]), 'state=%D6%D0']) {
    const gbk = await post(body, 'application/x-www-form-urlencoded');
    t.is(gbk.status, 400);
    t.regex(await gbk.text(), /accept-charset/);
  }
  const inQuery = await post('scope=openid', 'application/x-www-form-urlencoded', '?state=%D6%D0');
  t.is(inQuery.status, 400, 'the address’s own query is held to the same rule');

  // A form is sent on as a GET, every pair kept: a parameter given twice is the engine's to
  // refuse, where the same request with it once goes on to the sign-in.
  const pending = new URL((await authorizationRequest(site, { scope: 'openid' })).url);
  const sent = (form: string) =>
    post(form, 'application/x-www-form-urlencoded').then((answer) => {
      t.is(answer.status, 303);
      t.is(answer.headers.get('cache-control'), 'no-store');
      return fetch(new URL(String(answer.headers.get('location')), yitong.issuer), {
        headers: { accept: 'text/html' },
        redirect: 'manual',
      });
    });
  const next = async (form: string) => String((await sent(form)).headers.get('location'));
  t.regex(await next(pending.searchParams.toString()), /^\/interaction\//);
  const error = new URL(await next(`${pending.searchParams}&scope=profile`));
  t.is(`${error.origin}${error.pathname}`, REDIRECT_URI);
  t.regex(String(error.searchParams.get('error_description')), /twice/);
  const spaced = await post('state=a%20b&scope=openid', 'application/x-www-form-urlencoded');
  t.is(spaced.headers.get('location'), '/auth?state=a+b&scope=openid');
});
