/**
 * A relying party nobody on the team wrote: Debian's Apache with mod_auth_openidc in front of an
 * old site, on a spare port. With its usual `openid profile email` (the site is registered
 * without `email`), it signs the person in (getting the claims and a refresh token), refreshes
 * (asking again for `email`, which is dropped as at the sign-in) and logs out
 * through Yitong. Configured to post its authorization requests, from another site, it signs the
 * person in in Chromium, and is recognised the next time. Keeping its ID token for the logout's
 * `id_token_hint`, it still logs out after its site was moved from ES256 to RS256. Needs `apt-get install apache2
 * libapache2-mod-auth-openidc chromium` (.ci/run installs them).
 */
import test from 'ava';
import { decodeProtectedHeader } from 'jose';
import { type ApacheSite, apacheAddress, apacheAvailable, startApache } from '../helpers/apache.ts';
import { Browser, formAction, hiddenField, submit } from '../helpers/browser.ts';
import { launchChromium, newProfile, signInWithPassword } from '../helpers/chromium.ts';
import { newCitizen } from '../helpers/people.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let apache: ApacheSite | undefined;
let site: string;

test.before(async () => {
  if (!apacheAvailable) return;
  yitong = await startYitong('postgres');
  site = await apacheAddress();
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '旧系统（Apache）',
    department: '市档案馆',
    region_code: '440100',
    redirect_uris: [`${site}/protected/redirect_uri`],
    post_logout_redirect_uris: [`${site}/loggedout.html`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
  });
  apache = await startApache(site, { issuer: yitong.issuer, clientId, clientSecret });
});

test.after.always(async () => {
  await apache?.stop();
  await yitong?.stop();
});

test('Apache mod_auth_openidc signs in with openid profile email, refreshes its tokens, and logs out', async (t) => {
  if (!apacheAvailable) return t.fail('apt-get install apache2 libapache2-mod-auth-openidc');
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  let page = await browser.visit(`${site}/protected/`);
  t.regex(page.html, /name="password"/, 'sent to Yitong’s sign-in page');
  page = await submit(browser, page, '/login', { id_number: person.idNumber, password: person.password });
  t.notRegex(page.html, /电子邮箱/, 'email is not offered: the site may not have it');
  page = await submit(browser, page, '/consent');
  t.is(page.html, 'the protected page\n');

  // What the module holds for the site: the person's claims, and a refresh token.
  const held = async () =>
    JSON.parse((await browser.visit(`${site}/protected/redirect_uri?info=json`)).html) as {
      access_token?: string;
      refresh_token?: string;
      userinfo?: Record<string, unknown>;
    };
  const info = await held();
  t.is(info.userinfo?.name, person.name);
  t.truthy(info.refresh_token, 'offline_access granted');
  t.is(info.userinfo?.email, undefined);

  // The module refreshes (its refresh hook, which the application calls with the current token):
  // a new access token, and the refresh token rotated.
  page = await browser.visit(
    `${site}/protected/redirect_uri?refresh=${encodeURIComponent('/protected/')}&access_token=${encodeURIComponent(String(info.access_token))}`,
  );
  t.is(page.html, 'the protected page\n');
  const refreshed = await held();
  t.truthy(refreshed.access_token);
  t.not(refreshed.access_token, info.access_token, 'a new access token');
  t.not(refreshed.refresh_token, info.refresh_token, 'the refresh token rotated');

  page = await browser.visit(
    `${site}/protected/redirect_uri?logout=${encodeURIComponent(`${site}/loggedout.html`)}`,
  );
  t.true(page.html.includes('op.logoutForm'), 'Yitong asks to confirm');
  page = await browser.visit(new URL(formAction(page.html, '/session/end/confirm'), yitong.issuer).href, {
    form: { xsrf: hiddenField(page.html, 'xsrf'), logout: 'yes' },
  });
  t.true(
    page.html === 'logged out\n' || page.html.includes('您已退出一通账号及所有部门网站'),
    page.html.slice(0, 200),
  );
  const after = await browser.visit(`${site}/protected/`);
  t.regex(after.html, /name="password"/, 'signed out at the site and at Yitong');
});

test('Apache mod_auth_openidc posting its requests (OIDCProviderAuthRequestMethod POST) from another site, in Chromium: the session is recognised', async (t) => {
  if (!apacheAvailable) return t.fail('apt-get install apache2 libapache2-mod-auth-openidc');
  // At 127.0.0.1, another site than Yitong's localhost: its form POST carries no Yitong cookie.
  const posting = await apacheAddress('127.0.0.1');
  const registered = await yitong.addClient({
    client_name: '旧系统（表单提交）',
    department: '市档案馆',
    region_code: '440100',
    redirect_uris: [`${posting}/protected/redirect_uri`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
  });
  const postingApache = await startApache(posting, { issuer: yitong.issuer, ...registered }, [
    'OIDCProviderAuthRequestMethod POST',
  ]);
  t.teardown(() => postingApache.stop());
  const chromium = await launchChromium();
  t.teardown(() => chromium.close());
  const person = newCitizen();
  await yitong.createCitizen(person);
  const { context, page } = await newProfile(chromium);

  await page.goto(`${posting}/protected/`);
  await signInWithPassword(page, person);
  await page.getByRole('button', { name: '同意并继续' }).click();
  await page.getByText('the protected page').waitFor();

  // The site forgets the person; its next posted request finds them signed in at Yitong: the
  // consent page (the module asks prompt=consent), no password.
  await context.clearCookies({ domain: '127.0.0.1' });
  await page.goto(`${posting}/protected/`);
  const consent = page.getByRole('button', { name: '同意并继续' });
  await consent.waitFor();
  t.is(await page.locator('input[name="password"]').count(), 0, 'not asked to sign in again');
  await consent.click();
  await page.getByText('the protected page').waitFor();
  t.is(new URL(page.url()).origin, posting);
});

test('Apache mod_auth_openidc still logs the person out after the operator moved its site from ES256 to RS256', async (t) => {
  if (!apacheAvailable) return t.fail('apt-get install apache2 libapache2-mod-auth-openidc');
  const moving = await apacheAddress();
  const manifest = {
    client_name: '旧系统（改用 RS256）',
    department: '市档案馆',
    region_code: '440100',
    redirect_uris: [`${moving}/protected/redirect_uri`],
    post_logout_redirect_uris: [`${moving}/loggedout.html`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
  };
  const registered = await yitong.addClient(manifest);
  // Keeping the ID token in its session cookie, to send it as the logout's id_token_hint.
  const movingApache = await startApache(moving, { issuer: yitong.issuer, ...registered }, [
    'OIDCSessionType client-cookie:store_id_token',
  ]);
  t.teardown(() => movingApache.stop());
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  let page = await browser.visit(`${moving}/protected/`);
  page = await submit(browser, page, '/login', { id_number: person.idNumber, password: person.password });
  page = await submit(browser, page, '/consent');
  t.is(page.html, 'the protected page\n');

  // `yitong clients sync` with the manifest now asking for RS256; every node drops its copy.
  await yitong.addClient({
    ...manifest,
    client_id: registered.clientId,
    id_token_signed_response_alg: 'RS256',
  });
  const { provider } = yitong.server.container;
  for (let i = 0; i < 50; i++) {
    if ((await provider.Client.find(registered.clientId))?.idTokenSignedResponseAlg === 'RS256') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The module's logout sends the ES256 ID token it kept since the sign-in as id_token_hint.
  const logout = await browser.request(
    `${moving}/protected/redirect_uri?logout=${encodeURIComponent(`${moving}/loggedout.html`)}`,
  );
  const endSession = new URL(logout.headers.get('location') ?? '');
  t.is(decodeProtectedHeader(endSession.searchParams.get('id_token_hint') ?? '').alg, 'ES256');
  page = await browser.visit(endSession.href);
  t.is(page.status, 200, page.html.slice(0, 300));
  t.true(page.html.includes('op.logoutForm'), 'Yitong asks to confirm');
  t.false(page.html.includes('data-detail'), 'the hint verified');
  page = await browser.visit(new URL(formAction(page.html, '/session/end/confirm'), yitong.issuer).href, {
    form: { xsrf: hiddenField(page.html, 'xsrf'), logout: 'yes' },
  });
  t.is(page.html, 'logged out\n', 'back at the site');
  t.regex((await browser.visit(`${moving}/protected/`)).html, /name="password"/, 'signed out at Yitong too');
});
