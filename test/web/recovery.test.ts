/**
 * Self-service recovery of a forgotten password through the proved mobile number (a real HTTP
 * webhook receives the codes): the same answer whether or not the numbers belong together, the
 * second factor asked when the account has one, every earlier sign-in ended, the number told.
 */
import test from 'ava';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { Browser, type Page, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { messageWebhook } from '../helpers/receiver.ts';
import { eventually } from '../helpers/wait.ts';
import { freePort, startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let messages: () => Array<Record<string, string>>;
let closeWebhook = () => {};

test.before(async () => {
  const webhook = await messageWebhook();
  messages = webhook.messages;
  closeWebhook = webhook.close;
  // Every test asks from 127.0.0.1: the per-address allowance is raised, the per-account one kept.
  yitong = await startYitong('postgres', { NOTIFIER_URL: webhook.url, RATE_LIMITS: 'recover:ip=100/3600' });
});
test.after.always(async () => {
  closeWebhook();
  await yitong?.stop();
});

async function citizenWithProvedPhone() {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  await yitong.provePhone(sub, person.phone);
  return { ...person, sub };
}

/** Asks for a code; returns the code page and the code the webhook received (if any). */
async function ask(browser: Browser, idNumber: string, phone: string) {
  const before = messages().length;
  const start = await browser.visit(`${yitong.issuer}/recover`);
  const page = await submit(browser, start, '/recover', { id_number: idNumber, phone });
  // The code is sent in the background: given 2 s to arrive (none comes for a stranger).
  const sent = await eventually(
    'the code',
    () =>
      messages()
        .slice(before)
        .find((message) => message.kind === 'recovery_code' && message.phone === phone),
    2000,
  ).catch(() => undefined);
  return { page, code: sent?.code };
}

const fullWidth = (digits: string) =>
  [...digits].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');

const withoutTokens = (page: Page) => page.html.replace(/value="[^"]*"/g, '');

test('a proved number recovers the password: every sign-in ends, the number is told, the audit says so', async (t) => {
  const person = await citizenWithProvedPhone();
  const session = new Browser();
  await signInTo(session, yitong.issuer, person);

  const browser = new Browser();
  const login = await browser.visit(`${yitong.issuer}/account`);
  t.regex(login.html, /href="\/recover">忘记密码？/, 'the sign-in page offers recovery');
  const { page, code } = await ask(browser, person.idNumber, person.phone);
  t.is(page.status, 200);
  t.regex(page.html, /验证码已发送/);
  t.regex(code ?? '', /^\d{6}$/);

  const early = await browser.visit(`${yitong.issuer}/recover/password`);
  t.is(new URL(early.url).pathname, '/recover/code', 'the password step cannot be reached before the code');
  const wrong = await submit(browser, page, '/recover/code', {
    code: code === '000000' ? '111111' : '000000',
  });
  t.is(wrong.status, 400);
  t.regex(wrong.html, /验证码不正确/);
  const next = await submit(browser, wrong, '/recover/code', { code: code ?? '' });
  t.is(new URL(next.url).pathname, '/recover/password', 'no second factor: straight to the new password');
  const weak = await submit(browser, next, '/recover/password', {
    password: '1234',
    password_confirm: '1234',
  });
  t.is(weak.status, 400);
  const password = 'recovered pass phrase 2026';
  const done = await submit(browser, weak, '/recover/password', { password, password_confirm: password });
  t.is(done.status, 200);
  t.regex(done.html, /所有设备和网站上的登录均已退出/);

  t.regex(
    (await session.visit(`${yitong.issuer}/account`)).html,
    /name="id_number"/,
    'the old session ended',
  );
  t.true(messages().some((m) => m.kind === 'password_recovered' && m.personId === person.sub));
  await new Promise((resolve) => setTimeout(resolve, 1100)); // sign-ins in the second of the change count as before it
  t.regex((await signInTo(new Browser(), yitong.issuer, { ...person, password })).html, /个人中心/);
  const rows = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', person.sub)
    .where('action', '=', 'password.recovered')
    .execute();
  t.is(rows.length, 1);
  t.is((await browser.visit(`${yitong.issuer}/recover/password`)).url, `${yitong.issuer}/recover?expired=1`);
});

test('the answer is the same whether or not the numbers belong together; nothing is sent for a stranger', async (t) => {
  const person = await citizenWithProvedPhone();
  const unproved = newCitizen('440106');
  await yitong.createCitizen(unproved); // typed at registration, never proved
  const stranger = newCitizen('440106');
  const known = await ask(new Browser(), person.idNumber, person.phone);
  const others = [
    await ask(new Browser(), person.idNumber, stranger.phone),
    await ask(new Browser(), stranger.idNumber, stranger.phone),
    await ask(new Browser(), unproved.idNumber, unproved.phone),
  ];
  t.truthy(known.code);
  for (const other of others) {
    t.is(other.code, undefined);
    t.is(other.page.status, known.page.status);
    t.is(
      withoutTokens(other.page).replace(/\d{3}\*{4}\d{4}/, ''),
      withoutTokens(known.page).replace(/\d{3}\*{4}\d{4}/, ''),
    );
  }
  const stranger2 = new Browser();
  const { page } = await ask(stranger2, stranger.idNumber, person.phone);
  const guess = await submit(stranger2, page, '/recover/code', { code: '123456' });
  t.is(guess.status, 400);
  t.regex(guess.html, /验证码不正确/, "a stranger's attempt fails as a wrong code does");
});

test('with an authenticator app, the app is asked too; five wrong codes end the attempt', async (t) => {
  const person = await citizenWithProvedPhone();
  const setup = new Browser();
  await signInTo(setup, yitong.issuer, person);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);

  const browser = new Browser();
  const { page, code } = await ask(browser, person.idNumber, person.phone);
  const factor = await submit(browser, page, '/recover/code', { code: code ?? '' });
  t.is(new URL(factor.url).pathname, '/recover/factor');
  t.regex(factor.html, /身份验证器/);
  t.is(new URL((await browser.visit(`${yitong.issuer}/recover/password`)).url).pathname, '/recover/factor');
  const wrong = await submit(browser, factor, '/recover/otp', { otp: '000000' });
  t.is(wrong.status, 400);
  const next = await submit(browser, wrong, '/recover/otp', { otp: await authenticator.nextCode() });
  t.is(new URL(next.url).pathname, '/recover/password');

  const guesser = new Browser();
  let current = (await ask(guesser, person.idNumber, person.phone)).page;
  for (let i = 0; i < 5; i++) current = await submit(guesser, current, '/recover/code', { code: '999999' });
  const refused = await submit(guesser, current, '/recover/code', { code: '999999' });
  t.regex(refused.html, /错误次数过多/);
  t.regex(refused.html, /<a href="\/recover">重新填写<\/a>/, 'the page says to start again, and links there');
  const ended = await guesser.visit(`${yitong.issuer}/recover/code`);
  t.is(new URL(ended.url).pathname, '/recover');
  t.regex(ended.html, /已过期或无效/);
});

test('codes typed full-width or with a space are read; slips are named per field and are not counted as wrong codes', async (t) => {
  const person = await citizenWithProvedPhone();
  const setup = new Browser();
  await signInTo(setup, yitong.issuer, person);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);

  const browser = new Browser();
  let { page, code = '' } = await ask(browser, person.idNumber, person.phone);
  // More slips than the five wrong codes allowed: none of them is a guess.
  for (const slip of ['12', '１２３', '12345', '1234567', 'abcdef', '']) {
    page = await submit(browser, page, '/recover/code', { code: slip });
    t.is(page.status, 400, slip);
    t.regex(page.html, /id="code-error" role="alert">请输入短信中的 6 位数字验证码/, slip);
  }
  for (let i = 0; i < 4; i++)
    page = await submit(browser, page, '/recover/code', { code: code === '000000' ? '111111' : '000000' });
  const factor = await submit(browser, page, '/recover/code', {
    code: `${fullWidth(code.slice(0, 3))} ${fullWidth(code.slice(3))}`,
  });
  t.is(new URL(factor.url).pathname, '/recover/factor', factor.html.match(/role="alert">([^<]+)/)?.[1]);

  // The authenticator app's code likewise: slips do not use up its five tries.
  let current = factor;
  for (const slip of ['12', '1234567', 'abc']) {
    for (let i = 0; i < 2; i++) current = await submit(browser, current, '/recover/otp', { otp: slip });
    t.regex(current.html, /id="otp-error" role="alert">请输入 6 位数字验证码/, slip);
  }
  const next = await submit(browser, current, '/recover/otp', {
    otp: fullWidth(await authenticator.nextCode()),
  });
  t.is(new URL(next.url).pathname, '/recover/password');
});

test('bad input is named per field and changes nothing; asking is limited per account', async (t) => {
  const person = await citizenWithProvedPhone();
  const browser = new Browser();
  const start = await browser.visit(`${yitong.issuer}/recover`);
  const bad = await submit(browser, start, '/recover', { id_number: '123', phone: 'abc' });
  t.is(bad.status, 400);
  t.regex(bad.html, /aria-invalid="true"/);
  for (let i = 0; i < 3; i++) await ask(new Browser(), person.idNumber, person.phone);
  const limited = await ask(new Browser(), person.idNumber, person.phone);
  t.is(limited.page.status, 429);
  t.regex(limited.page.html, /找回密码的验证码发送次数过多.*政务服务窗口/);
  t.is(limited.code, undefined);
});

test('an attempt belongs to the browser that started it: its cookie planted in another browser is worth nothing', async (t) => {
  const person = await citizenWithProvedPhone();
  const victim = new Browser();
  const attacker = new Browser();
  const { code } = await ask(attacker, person.idNumber, person.phone);
  await victim.visit(`${yitong.issuer}/recover`); // the victim's own CSRF cookie
  const planted = attacker.cookies.get('yitong.recovery');
  if (!planted) return t.fail('no attempt cookie');
  victim.cookies.set('yitong.recovery', planted);
  const page = await victim.visit(`${yitong.issuer}/recover/code`);
  t.is(page.url, `${yitong.issuer}/recover?expired=1`);
  const typed = await victim.visit(`${yitong.issuer}/recover/code`, {
    form: { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', code: code ?? '' },
  });
  t.not(new URL(typed.url).pathname, '/recover/password', 'the code does not carry the attempt over');
});

test('a stranger with the identity number cannot use up the owner’s allowance: it is per account and number', async (t) => {
  const person = await citizenWithProvedPhone();
  for (let i = 0; i < 4; i++)
    t.is((await ask(new Browser(), person.idNumber, `139${String(i).padStart(8, '0')}`)).page.status, 200);
  const owner = await ask(new Browser(), person.idNumber, person.phone);
  t.is(owner.page.status, 200);
  t.regex(owner.code ?? '', /^\d{6}$/);
});

test('an administrator without a second factor is not recovered with the phone alone: the page says who resets it', async (t) => {
  const person = await citizenWithProvedPhone();
  await yitong.server.container.admin.addAdmin(person.idNumber, 'admin', '440106');
  const browser = new Browser();
  const { page, code } = await ask(browser, person.idNumber, person.phone);
  const refused = await submit(browser, page, '/recover/code', { code: code ?? '' });
  t.is(refused.status, 403);
  t.regex(refused.html, /上级管理员/);
  const after = await browser.visit(`${yitong.issuer}/recover/password`);
  t.is(new URL(after.url).pathname, '/recover', 'the attempt is over');
});

test('while the messaging service fails, every recovery request is told so (503), whoever it names', async (t) => {
  const down = await startYitong('postgres', { NOTIFIER_URL: `http://127.0.0.1:${await freePort()}/notify` });
  t.teardown(() => down.stop());
  const person = newCitizen();
  await down.createCitizen(person);
  const browser = new Browser();
  const before = await submit(browser, await browser.visit(`${down.issuer}/recover`), '/recover', {
    id_number: person.idNumber,
    phone: person.phone,
  });
  t.is(before.status, 200, 'nothing known to fail yet: the usual answer');
  // A code that had to be delivered (a new number's) fails: the service is known to be failing.
  const phoneBrowser = new Browser();
  const phonePage = await signInTo(phoneBrowser, down.issuer, person, '/account/phone');
  const failed = await submit(phoneBrowser, phonePage, '/account/phone', { phone: '13712345678' });
  t.is(failed.status, 503);
  for (const idNumber of [person.idNumber, newCitizen().idNumber]) {
    const asked = await submit(browser, await browser.visit(`${down.issuer}/recover`), '/recover', {
      id_number: idNumber,
      phone: person.phone,
    });
    t.is(asked.status, 503);
    t.regex(asked.html, /消息服务暂时无法发送/);
  }
});
