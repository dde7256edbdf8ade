/**
 * The account page over HTTP (PostgreSQL + Redis): sign-in through the provider, turning the
 * authenticator app on and off, removing passkeys, and the abuse cases: no session, another
 * person's passkey, a missing CSRF token, a stale sign-in. Browser flows are in test/browser/.
 */
import test from 'ava';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { Browser, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

/** The account page's CSRF token (its passkey button carries it for the script). */
const csrfOf = (html: string) => html.match(/data-csrf="([\w-]+)"/)?.[1] ?? '';

async function signedIn() {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, person);
  return { person, sub, browser, page };
}

/** A passkey row as registration would leave it (the browser ceremony is tested in test/browser/). */
async function addPasskey(sub: string, id: string) {
  await yitong.server.container.factors.insertPasskey(
    {
      id,
      personId: sub,
      name: '旧手机',
      publicKey: Buffer.alloc(77, 1),
      counter: 0,
      transports: [],
      backedUp: false,
    },
    { actor: sub, action: 'passkey.added', subject: sub },
  );
}

test('without a session, /account sends the person through the provider and back', async (t) => {
  const browser = new Browser();
  const first = await browser.request(`${yitong.issuer}/account`);
  t.is(first.status, 302);
  const location = new URL(first.headers.get('location') ?? '');
  t.is(location.pathname, '/auth');
  t.is(location.searchParams.get('client_id'), 'yitong-account');
  t.is(location.searchParams.get('response_type'), 'none');

  const { page } = await signedIn();
  t.is(page.status, 200);
  t.regex(page.html, /个人中心/);
  t.regex(page.html, /实名等级：<\/strong>|实名等级：1 级/);
  t.regex(page.html, /data-action="passkey-add"/);
  const api = await browser.request(`${yitong.issuer}/account/totp/delete`, { form: { _csrf: 'x' } });
  t.is(api.status, 401, 'no session: refused');
});

test('the callback refuses a state it did not issue', async (t) => {
  const browser = new Browser();
  await browser.request(`${yitong.issuer}/account`);
  const forged = await browser.visit(`${yitong.issuer}/account/callback?state=forged`);
  t.is(forged.status, 400);
});

test('authenticator app: on with recovery codes, listed, then off (codes void), each step audited once', async (t) => {
  const { sub, person, browser: setup } = await signedIn();
  const { recoveryCodes, authenticator } = await enrolTotp(setup, yitong.issuer);
  // Turning it off needs a sign-in with it.
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, { ...person, authenticator });
  t.is(recoveryCodes.length, 10);
  const stored = await yitong.server.container.database.db
    .selectFrom('recovery_codes')
    .select('code_hmac')
    .where('person_id', '=', sub)
    .execute();
  t.is(stored.length, 10);
  t.false(
    stored.some((row) => recoveryCodes.some((code) => row.code_hmac.toString().includes(code))),
    'kept only as HMACs',
  );

  const account = await browser.visit(`${yitong.issuer}/account`);
  t.regex(account.html, /已开启。剩余恢复码：10 个/);
  const off = await submit(browser, account, '/account/totp/delete');
  t.regex(off.html, /身份验证器已关闭/);
  // Sent again (the old page, a double click): nothing to turn off, so nothing is audited.
  await submit(browser, account, '/account/totp/delete');
  t.deepEqual(await yitong.server.container.factors.factorSummary(sub), {
    passkeys: 0,
    totp: false,
    recoveryCodes: 0,
  });
  const actions = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', sub)
    .orderBy('seq')
    .execute();
  t.deepEqual(
    actions.map((row) => row.action).filter((action) => action.startsWith('totp.')),
    ['totp.added', 'totp.removed'],
  );
});

test('the enrolment page links back to My account; once the app is on, opening it again goes to My account', async (t) => {
  const { person, browser: setup } = await signedIn();
  const enrolment = await setup.visit(`${yitong.issuer}/account/totp`);
  t.regex(enrolment.html, /<a href="\/account">返回个人中心<\/a>/);
  t.notRegex(enrolment.html, /返回首页/);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);
  // The password-only session of the enrolment, and a session signed in with the app.
  const strong = new Browser();
  await signInTo(strong, yitong.issuer, { ...person, authenticator });
  for (const browser of [setup, strong]) {
    const again = await browser.visit(`${yitong.issuer}/account/totp`);
    t.is(again.status, 200);
    t.regex(again.url, /\/account\?done=totp-on$/);
    t.regex(again.html, /role="status">身份验证器已经开启/);
  }
  const english = await strong.visit(`${yitong.issuer}/account/totp?lang=en`);
  t.regex(english.html, /The authenticator app is already on/);
});

test('a wrong first code does not turn the authenticator on', async (t) => {
  const { sub, browser } = await signedIn();
  const enrolment = await browser.visit(`${yitong.issuer}/account/totp`);
  const wrong = await submit(browser, enrolment, '/account/totp', { otp: '12' });
  t.is(wrong.status, 400);
  t.regex(wrong.html, /请输入 6 位数字验证码/);
  t.is(
    wrong.html.match(/data-secret="(\w+)"/)?.[1],
    enrolment.html.match(/data-secret="(\w+)"/)?.[1],
    'same key',
  );
  t.false((await yitong.server.container.factors.factorSummary(sub)).totp);
});

test('passkeys: the owner removes one; another person’s id or a missing CSRF token changes nothing', async (t) => {
  const first = await signedIn();
  const { authenticator } = await enrolTotp(first.browser, yitong.issuer);
  // Removing a passkey needs a sign-in with a second factor.
  const owner = { ...first, browser: new Browser() };
  await signInTo(owner.browser, yitong.issuer, { ...first.person, authenticator });
  const other = await signedIn();
  await addPasskey(owner.sub, 'owner-passkey-1');
  const account = await owner.browser.visit(`${yitong.issuer}/account`);
  t.regex(account.html, /旧手机/);

  const foreign = await other.browser.visit(`${yitong.issuer}/account/passkeys/owner-passkey-1/delete`, {
    form: { _csrf: csrfOf(other.page.html) },
  });
  t.is(foreign.status, 404);
  const noCsrf = await owner.browser.visit(`${yitong.issuer}/account/passkeys/owner-passkey-1/delete`, {
    form: {},
  });
  t.is(noCsrf.status, 403);
  t.is((await yitong.server.container.factors.factorSummary(owner.sub)).passkeys, 1, 'still there');

  const removed = await submit(owner.browser, account, '/passkeys/owner-passkey-1/delete');
  t.regex(removed.html, /通行密钥已删除/);
  t.is((await yitong.server.container.factors.factorSummary(owner.sub)).passkeys, 0);
});

test('passkey registration refuses a bad name or a response without a challenge, as JSON with the reason', async (t) => {
  const { browser, page } = await signedIn();
  const post = (body: Record<string, unknown>) =>
    fetch(`${yitong.issuer}/account/passkeys`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        cookie: browser.cookieHeader(new URL(yitong.issuer)),
      },
      body: JSON.stringify({ _csrf: csrfOf(page.html), ...body }),
    });
  const badName = await post({ name: '', response: {} });
  t.is(badName.status, 400);
  t.like(await badName.json(), { error: 'passkey.name' });
  const noChallenge = await post({ name: '手机', response: { id: 'x' } });
  t.is(noChallenge.status, 400);
  t.like(await noChallenge.json(), { error: 'passkey.expired' });
});

test('changing sign-in methods needs a recent sign-in', async (t) => {
  const { browser } = await signedIn();
  const provider = yitong.server.container.provider;
  const session = await provider.Session.find(browser.cookies.get('_session')?.value ?? '');
  if (!session) return t.fail('no session');
  session.loginTs = Math.floor(Date.now() / 1000) - 3600;
  await session.save(3600);

  const account = await browser.visit(`${yitong.issuer}/account`);
  t.regex(account.html, /修改登录方式前请重新验证身份/);
  t.regex(account.html, /href="\/account\/sign-in\?fresh=1"/);
  const stale = await browser.visit(`${yitong.issuer}/account/totp`);
  t.is(stale.status, 403);
  t.regex(stale.html, /请先重新验证身份/);
});

test('malformed bodies and parameters get a 4xx with a reason, never a 500', async (t) => {
  const { browser, page } = await signedIn();
  const csrf = csrfOf(page.html);
  const send = (path: string, body: string, type = 'application/json') =>
    fetch(`${yitong.issuer}${path}`, {
      method: 'POST',
      headers: {
        'content-type': type,
        accept: 'application/json',
        cookie: browser.cookieHeader(new URL(yitong.issuer)),
      },
      body,
    });
  const cases: Array<[string, string, string?]> = [
    ['/account/passkeys', JSON.stringify({ _csrf: csrf, name: 'x', response: 'a string' })],
    ['/account/passkeys', JSON.stringify({ _csrf: csrf, name: ['x'], response: [1, 2] })],
    ['/account/passkeys', JSON.stringify({ _csrf: csrf, name: 'x', response: { id: 5, response: null } })],
    ['/account/passkeys', '[1,2,3]'],
    ['/account/passkeys', 'null'],
    ['/account/passkeys/options', JSON.stringify({ _csrf: 42 })],
    ['/account/passkeys/%E0%A4%A/delete', `_csrf=${csrf}`, 'application/x-www-form-urlencoded'],
    ['/account/totp', JSON.stringify({ _csrf: csrf, otp: { $gt: '' } })],
    ['/account/identity', JSON.stringify({ _csrf: csrf, name: null })],
    // This instance has no online check at all: no outage, nothing to retry.
    [
      '/account/identity',
      `_csrf=${csrf}&name=${encodeURIComponent('张三')}`,
      'application/x-www-form-urlencoded',
    ],
  ];
  for (const [path, body, type] of cases) {
    const response = await send(path, body, type);
    t.true(response.status >= 400 && response.status < 500, `${path} ${body}: ${response.status}`);
    // JSON for the script's endpoints; a form page shows the error next to the form.
    const text = await response.text();
    t.regex(text, /"error_description"|role="alert"/, `${path} explains itself`);
  }
  for (const query of ['state=a&state=b', 'error=access_denied']) {
    const callback = await browser.request(`${yitong.issuer}/account/callback?${query}`);
    t.is(callback.status, 400, query);
  }
  const nul = await send(
    '/account/passkeys/%00/delete',
    `_csrf=${csrf}`,
    'application/x-www-form-urlencoded',
  );
  t.is(nul.status, 400, 'a NUL in a path parameter');
  for (const done of ['constructor', '__proto__', 'toString'])
    t.is((await browser.request(`${yitong.issuer}/account?done=${done}`)).status, 200, `done=${done}`);
  const odd = await browser.request(`${yitong.issuer}/account/sign-in?return=//evil.example/x`);
  t.is(new URL(odd.headers.get('location') ?? '').origin, yitong.issuer, 'never sent off-site');
});

test('changing the password needs the current one; then every sign-in ends and the new one works', async (t) => {
  const { person, sub, browser, page } = await signedIn();
  const wrong = await submit(browser, page, '/account/password', {
    current_password: 'not it at all',
    password: 'a new long passphrase',
    password_confirm: 'a new long passphrase',
  });
  t.is(wrong.status, 400);
  t.regex(wrong.html, /当前密码不正确/);
  const weak = await submit(browser, page, '/account/password', {
    current_password: person.password,
    password: 'password',
    password_confirm: 'password',
  });
  t.is(weak.status, 400);
  t.regex(weak.html, /过于常见/);
  const other = new Browser();
  await signInTo(other, yitong.issuer, person);
  const changed = await submit(browser, page, '/account/password', {
    current_password: person.password,
    password: 'a new long passphrase',
    password_confirm: 'a new long passphrase',
  });
  t.regex(changed.html, /密码已修改/);
  t.regex(
    (await other.visit(`${yitong.issuer}/account`)).html,
    /name="id_number"/,
    'the other browser signs in again',
  );
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const fresh = await signInTo(new Browser(), yitong.issuer, {
    ...person,
    password: 'a new long passphrase',
  });
  t.regex(fresh.html, /个人中心/);
  const actions = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', sub)
    .where('action', 'like', 'password.%')
    .execute();
  t.deepEqual(
    actions.map((row) => row.action),
    ['password.changed'],
  );
});

test('a stolen password alone cannot change the sign-in methods of someone who has a second factor', async (t) => {
  const { sub, browser } = await signedIn();
  await addPasskey(sub, 'owners-own-passkey');
  const enrol = await browser.visit(`${yitong.issuer}/account/totp`);
  t.is(enrol.status, 403);
  t.regex(enrol.html, /您已设置第二重验证/);
  const account = await browser.visit(`${yitong.issuer}/account`);
  const remove = await browser.visit(`${yitong.issuer}/account/passkeys/owners-own-passkey/delete`, {
    form: { _csrf: csrfOf(account.html) },
  });
  t.is(remove.status, 403);
  t.is((await yitong.server.container.factors.factorSummary(sub)).passkeys, 1, 'nothing changed');
});
