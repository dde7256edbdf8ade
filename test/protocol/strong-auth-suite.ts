/**
 * Step-up and one-time codes, driven by a real relying party (openid-client) and the
 * cookie-keeping Browser: a password session asked for `mfa` gets the second-factor page, and
 * every abuse of a code is refused. Runs once per storage backend (strong-auth-*.test.ts).
 */
import type { TestFn } from 'ava';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { Browser, type Page, submit } from '../helpers/browser.ts';
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
import { currentStep, totpCode } from '../helpers/totp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const MFA = 'urn:yitong:acr:mfa';
const PHR = 'urn:yitong:acr:phr';

export function strongAuthSuite(test: TestFn, backend: Backend) {
  let yitong: Yitong;
  let site: Site;

  test.before(async () => {
    yitong = await startYitong(backend);
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: '税务',
      department: '税务局',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid profile',
    });
    site = await discoverSite(yitong.issuer, clientId, clientSecret);
  });
  test.after.always(() => yitong?.stop());

  async function citizen() {
    const person = newCitizen();
    return { ...person, sub: await yitong.createCitizen(person) };
  }

  /** A citizen with the authenticator app on, signed in (password only) in `browser`. */
  async function citizenWithTotp(browser = new Browser()) {
    const person = await citizen();
    await signInTo(browser, yitong.issuer, person);
    return { ...person, browser, ...(await enrolTotp(browser, yitong.issuer)) };
  }

  /** Starts a sign-in for the site asking for `acr`; returns the second-factor page after the password. */
  async function secondFactorPage(person: { idNumber: string; password: string }, acr?: string) {
    const browser = new Browser();
    const pending = await authorizationRequest(site, {
      scope: 'openid profile',
      extra: acr ? { acr_values: acr } : {},
    });
    const login = await browser.visit(pending.url);
    const page = await submit(browser, login, '/login', {
      id_number: person.idNumber,
      password: person.password,
    });
    return { browser, pending, page };
  }

  /** Answers the consent page when it comes (a first visit to the site), up to the redirect back. */
  async function consentIfAsked(browser: Browser, page: Page): Promise<Page> {
    return page.html.includes('/consent"') ? submit(browser, page, '/consent', {}, REDIRECT_URI) : page;
  }

  const errorText = (page: Page) => page.html.match(/role="alert">([^<]+)</)?.[1] ?? '';

  test('step-up: a password session asked for mfa gets the one-time-code page, then acr mfa with amr pwd+otp', async (t) => {
    const person = await citizenWithTotp();
    // The session signed in with a password only: a site content with that gets pwd.
    const plain = await authorizationRequest(site, { scope: 'openid profile' });
    const first = await walkAuthorization(person.browser, plain.url);
    const before = await exchangeCode(site, first.callbackUrl, plain);
    t.is(before.claims()?.acr, 'urn:yitong:acr:pwd');

    const pending = await authorizationRequest(site, { scope: 'openid profile', extra: { acr_values: MFA } });
    const stepUp = await person.browser.visit(pending.url);
    t.regex(stepUp.html, /name="otp"/, 'asks for the code only');
    t.notRegex(stepUp.html, /name="password"/);
    const back = await submit(
      person.browser,
      stepUp,
      '/otp',
      { otp: await person.authenticator.nextCode() },
      REDIRECT_URI,
    );
    const tokens = await exchangeCode(site, back.url, pending);
    const claims = tokens.claims();
    t.is(claims?.acr, MFA);
    t.deepEqual([...((claims?.amr as string[]) ?? [])].sort(), ['mfa', 'otp', 'pwd']);
    t.is(claims?.sub, person.sub);
  });

  test('with the authenticator app on, a password sign-in always asks for the code', async (t) => {
    const person = await citizenWithTotp();
    const { page } = await secondFactorPage(person);
    t.regex(page.html, /name="otp"/);
    t.regex(page.url, /\/interaction\//);
  });

  test('one-time codes: a wrong, an expired and a replayed code are refused; a recovery code works once', async (t) => {
    const person = await citizenWithTotp();
    const { browser, page, pending } = await secondFactorPage(person, MFA);

    const wrong = await submit(browser, page, '/otp', {
      otp: '000000' === totpCode(person.authenticator.secret) ? '111111' : '000000',
    });
    t.is(wrong.status, 400);
    t.regex(errorText(wrong), /验证码不正确/);

    const expired = await submit(browser, wrong, '/otp', {
      otp: totpCode(person.authenticator.secret, currentStep() - 3),
    });
    t.is(expired.status, 400);
    t.regex(errorText(expired), /验证码不正确或已过期/);

    const format = await submit(browser, expired, '/otp', { otp: '12ab' });
    t.regex(errorText(format), /6 位数字/);

    const code = await person.authenticator.nextCode();
    const signedIn = await consentIfAsked(
      browser,
      await submit(browser, format, '/otp', { otp: code }, REDIRECT_URI),
    );
    t.truthy(new URL(signedIn.url).searchParams.get('code'));
    t.is((await exchangeCode(site, signedIn.url, pending)).claims()?.acr, MFA);

    // The same code again, within its 30-second window, in another sign-in.
    const replay = await secondFactorPage(person, MFA);
    const replayed = await submit(replay.browser, replay.page, '/otp', { otp: code });
    t.is(replayed.status, 400);
    t.regex(errorText(replayed), /刚刚用过/);

    const [recovery] = person.recoveryCodes as [string];
    const withRecovery = await submit(
      replay.browser,
      replayed,
      '/otp',
      { otp: recovery.toUpperCase() },
      REDIRECT_URI,
    );
    t.truthy(new URL(withRecovery.url).searchParams.get('code'), 'a recovery code replaces the code once');
    const again = await secondFactorPage(person, MFA);
    const reused = await submit(again.browser, again.page, '/otp', { otp: recovery });
    t.is(reused.status, 400);
    t.regex(errorText(reused), /已经用过/);
  });

  test('one-time codes are rate-limited per account, apart from passwords', async (t) => {
    const person = await citizenWithTotp();
    let { browser, page } = await secondFactorPage(person, MFA);
    for (let attempt = 0; attempt < 5; attempt++)
      page = await submit(browser, page, '/otp', { otp: '000001' });
    const limited = await submit(browser, page, '/otp', { otp: await person.authenticator.nextCode() });
    t.is(limited.status, 429, 'even the right code waits once the limit is reached');
    t.regex(errorText(limited), /分钟后再试/);
    // Passwords are counted apart: signing in with the password still works.
    const other = await secondFactorPage(person, MFA);
    t.regex(other.page.html, /name="otp"/);
  });

  test('a site asking for a passkey, from a person without one, gets a page saying how to add one', async (t) => {
    const person = await citizen();
    const { page } = await secondFactorPage(person, PHR);
    t.regex(page.html, /还没有添加通行密钥/);
    t.regex(page.html, /href="\/account"/);
    t.notRegex(page.html, /name="otp"/);
  });

  test('prompt=none above the session strength is an error to the site, never a silent downgrade', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const first = await authorizationRequest(site, { scope: 'openid profile' });
    await walkAuthorization(browser, first.url, person);
    const pending = await authorizationRequest(site, {
      scope: 'openid profile',
      extra: { acr_values: MFA, prompt: 'none' },
    });
    const back = await browser.visit(pending.url, {}, REDIRECT_URI);
    t.is(new URL(back.url).searchParams.get('error'), 'login_required');
    t.is(new URL(back.url).searchParams.get('code'), null);
  });

  test('max_age forces a new sign-in on an existing session', async (t) => {
    const person = await citizen();
    const browser = new Browser();
    const first = await authorizationRequest(site, { scope: 'openid profile' });
    await walkAuthorization(browser, first.url, person);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const pending = await authorizationRequest(site, { scope: 'openid profile', extra: { max_age: '1' } });
    const walk = await walkAuthorization(browser, pending.url, person);
    t.deepEqual(walk.pages, ['login']);
    const tokens = await exchangeCode(site, walk.callbackUrl, pending);
    t.true((tokens.claims()?.auth_time as number) >= Math.floor(Date.now() / 1000) - 5);
  });

  test('discovery lists the three strengths', async (t) => {
    const metadata = site.config.serverMetadata();
    t.deepEqual(metadata.acr_values_supported, ['urn:yitong:acr:pwd', MFA, PHR]);
  });
}
