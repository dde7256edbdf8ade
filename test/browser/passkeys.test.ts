/**
 * Passkeys in a real browser: Debian's Chromium with Chrome's virtual authenticator. A citizen
 * registers, adds a passkey on the account page, signs out, signs in without a password at a
 * site that requires a passkey, and the site gets acr phr with amr hwk. Replayed assertions,
 * challenges from another session and unknown credentials are refused. Screenshots of the
 * sign-in, step-up and account pages (zh-CN, desktop and phone) go to docs/screenshots/.
 */
import test from 'ava';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  addVirtualAuthenticator,
  launchChromium,
  newProfile,
  screenshots,
  signInWithPassword,
} from '../helpers/chromium.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI, type Site } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const PHR = 'urn:yitong:acr:phr';
const MFA = 'urn:yitong:acr:mfa';

let yitong: Yitong;
let chromium: Browser;
let site: Site;

test.before(async () => {
  [yitong, chromium] = await Promise.all([startYitong('postgres'), launchChromium()]);
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '不动产登记',
    department: '自然资源局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    default_acr_values: [PHR],
  });
  site = await discoverSite(yitong.issuer, clientId, clientSecret);
});
test.after.always(async () => {
  await chromium?.close();
  await yitong?.stop();
});

/** Registers in the browser, signs in to /account and adds a passkey; returns the citizen. */
async function citizenWithPasskey(context: BrowserContext, page: Page) {
  const person = newCitizen();
  await addVirtualAuthenticator(context, page);
  await page.goto(`${yitong.issuer}/register`);
  await page.getByLabel('居民身份证号码').fill(person.idNumber);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('手机号码').fill(person.phone);
  await page.getByLabel('密码', { exact: true }).fill(person.password);
  await page.getByLabel('确认密码').fill(person.password);
  await page.getByRole('button', { name: '注册' }).click();
  await page.getByText('注册申请已处理').first().waitFor();

  await page.goto(`${yitong.issuer}/account`);
  await signInWithPassword(page, person);
  await page.waitForURL(`${yitong.issuer}/account`);
  await page.getByLabel('通行密钥名称').fill('我的手机');
  await page.locator('[data-action="passkey-add"]').click();
  await page.waitForURL(/\/account\?done=passkey-added/);
  return person;
}

test.serial(
  'register, add a passkey, sign out, sign in without a password: the site gets acr phr and amr hwk',
  async (t) => {
    const { context, page } = await newProfile(chromium);
    await citizenWithPasskey(context, page);
    t.is(await page.locator('section[aria-labelledby="methods"] .items li').count(), 1);
    t.regex(
      (await page.locator('section[aria-labelledby="methods"] .items').textContent()) ?? '',
      /我的手机/,
    );
    await screenshots(page, 'account-passkey');

    // Sign out of Yitong (RP-less logout asks to confirm).
    await page.goto(`${yitong.issuer}/session/end`);
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByText('已退出登录').first().waitFor();

    const pending = await authorizationRequest(site, { scope: 'openid profile' });
    await page.goto(pending.url);
    const passkeyButton = page.locator('[data-action="passkey-signin"]');
    await passkeyButton.waitFor({ state: 'visible' });
    await screenshots(page, 'sign-in');
    await passkeyButton.click();
    await page.getByRole('button', { name: '同意并继续' }).click();
    await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI));

    const tokens = await exchangeCode(site, page.url(), pending);
    const claims = tokens.claims();
    t.is(claims?.acr, PHR);
    t.true(['hwk', 'swk'].some((method) => ((claims?.amr ?? []) as string[]).includes(method)));
    t.false(((claims?.amr ?? []) as string[]).includes('pwd'), 'no password was used');
    await context.close();
  },
);

test.serial('step-up from a password session to a passkey: the page asks only for the passkey', async (t) => {
  const { context, page } = await newProfile(chromium);
  const person = await citizenWithPasskey(context, page);
  // The account page's sign-in was by password; a site wanting mfa gets the second-factor page.
  const pending = await authorizationRequest(site, { scope: 'openid profile', extra: { acr_values: MFA } });
  await page.goto(pending.url);
  const verify = page.locator('[data-action="passkey-verify"]');
  await verify.waitFor({ state: 'visible' });
  t.is(await page.locator('input[name="password"]').count(), 0, 'no password asked again');
  await screenshots(page, 'step-up');
  await verify.click();
  await page.getByRole('button', { name: '同意并继续' }).click();
  await page.waitForURL((url) => url.href.startsWith(REDIRECT_URI));
  const claims = (await exchangeCode(site, page.url(), pending)).claims();
  t.is(claims?.acr, PHR);
  t.deepEqual([...((claims?.amr ?? []) as string[])].sort(), ['hwk', 'mfa', 'pwd']);
  t.is(
    claims?.sub,
    (await yitong.server.container.accounts.findPersonByIdNumber(person.idNumber as never))?.id,
  );
  await context.close();
});

/** On a sign-in page: gets options and an assertion from the authenticator, without posting it. */
function assertion(page: Page) {
  return page.evaluate(async () => {
    const button = document.querySelector<HTMLButtonElement>('[data-action="passkey-signin"]');
    const csrf = button?.dataset.csrf;
    const options = await fetch(button?.dataset.options ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ _csrf: csrf }),
    }).then((r) => r.json());
    const webauthn = (
      window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: unknown): Promise<unknown> } }
    ).SimpleWebAuthnBrowser;
    return webauthn.startAuthentication({ optionsJSON: options }) as Promise<Record<string, unknown>>;
  });
}

/** Posts an assertion to this page's interaction; the status and the error code. */
function post(page: Page, response: unknown) {
  return page.evaluate(async (body) => {
    const button = document.querySelector<HTMLButtonElement>('[data-action="passkey-signin"]');
    const result = await fetch(button?.dataset.verify ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ _csrf: button?.dataset.csrf, response: body }),
    });
    return { status: result.status, body: (await result.json()) as { error?: string; location?: string } };
  }, response);
}

test.serial(
  'a replayed assertion, an assertion for another session and an unknown credential are refused',
  async (t) => {
    const { context, page } = await newProfile(chromium);
    await citizenWithPasskey(context, page);
    await page.goto(`${yitong.issuer}/session/end`);
    await page.getByRole('button', { name: '退出登录' }).click();

    const first = await authorizationRequest(site, { scope: 'openid profile' });
    await page.goto(first.url);
    const good = await assertion(page);
    const accepted = await post(page, good);
    t.is(accepted.status, 200);
    t.truthy(accepted.body.location);
    const replayed = await post(page, good);
    t.is(replayed.status, 400);
    t.is(replayed.body.error, 'passkey.expired');

    // Another browser (another session) with its own pending challenge: A's assertion does not fit it.
    const other = await newProfile(chromium);
    const second = await authorizationRequest(site, { scope: 'openid profile' });
    await other.page.goto(second.url);
    await other.page.evaluate(async () => {
      const button = document.querySelector<HTMLButtonElement>('[data-action="passkey-signin"]');
      await fetch(button?.dataset.options ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ _csrf: button?.dataset.csrf }),
      });
    });
    const third = await authorizationRequest(site, { scope: 'openid profile' });
    await page.goto(third.url);
    const forA = await assertion(page);
    const crossed = await post(other.page, forA);
    t.is(crossed.status, 400);
    t.is(crossed.body.error, 'passkey.failed');

    const fourth = await authorizationRequest(site, { scope: 'openid profile' });
    await page.goto(fourth.url);
    const unknown = {
      ...(await assertion(page)),
      id: 'AAAAAAAAAAAAAAAAAAAAAA',
      rawId: 'AAAAAAAAAAAAAAAAAAAAAA',
    };
    const refused = await post(page, unknown);
    t.is(refused.status, 400);
    t.is(refused.body.error, 'passkey.unknown');
    await other.context.close();
    await context.close();
  },
);
