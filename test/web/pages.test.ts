import test from 'ava';
import type { IdNumber } from '../../src/identity/id-number.ts';
import { Browser, hiddenField, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite } from '../helpers/rp.ts';
import { currentStep, totpCode } from '../helpers/totp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  // Every test registers from 127.0.0.1: the per-address allowance is raised.
  yitong = await startYitong('pglite', { RATE_LIMITS: 'reg:ip=200/3600' });
});
test.after.always(() => yitong?.stop());

test('pages are in Chinese by default; English once chosen, remembered', async (t) => {
  const browser = new Browser();
  const home = await browser.visit(`${yitong.issuer}/`);
  t.regex(home.html, /<html lang="zh-CN">/);
  t.regex(home.html, /注册个人账号/);
  const english = await browser.visit(`${yitong.issuer}/?lang=en`);
  t.regex(english.html, /<html lang="en">/);
  const register = await browser.visit(`${yitong.issuer}/register`);
  t.regex(register.html, /Create a personal account/);
  for (const field of ['id_number', 'name', 'phone', 'password', 'password_confirm']) {
    t.regex(register.html, new RegExp(`<label for="${field}">`), `${field} has a visible label`);
  }
});

test('signing in to My account names it in the reader’s language', async (t) => {
  const english = new Browser();
  await english.visit(`${yitong.issuer}/?lang=en`);
  const login = await english.visit(`${yitong.issuer}/account`);
  t.regex(login.html, /You are signing in to My account \(Yitong\)\./);
  t.notRegex(login.html, /一通个人中心/);
  const chinese = await new Browser().visit(`${yitong.issuer}/account`);
  t.regex(chinese.html, /您正在登录 一通个人中心（一通）。/);
});

test('every response carries the security headers; pages use no inline script', async (t) => {
  const response = await fetch(`${yitong.issuer}/register`);
  const csp = response.headers.get('content-security-policy') ?? '';
  t.regex(csp, /default-src 'self'/);
  t.regex(csp, /script-src 'self' 'nonce-[\w+/=]+'/);
  t.regex(csp, /frame-ancestors 'none'/);
  t.is(response.headers.get('x-content-type-options'), 'nosniff');
  t.notRegex(await response.text(), /<script/);
  const discovery = await fetch(`${yitong.issuer}/.well-known/openid-configuration`);
  t.regex(discovery.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
});

test('static files: an ETag, and 304 for it weakly, in a list or `*`; a list without it gets the file', async (t) => {
  const url = `${yitong.issuer}/static/app.css`;
  const first = await fetch(url);
  const body = await first.text();
  const etag = first.headers.get('etag') ?? '';
  t.regex(etag, /^"[\w-]+"$/);
  for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const answer = await fetch(url, { headers: { 'if-none-match': header } });
    t.is(answer.status, 304, `If-None-Match: ${header}`);
    t.is(await answer.text(), '');
  }
  const changed = await fetch(url, { headers: { 'if-none-match': '"other", W/"another"' } });
  t.is(changed.status, 200);
  t.is(await changed.text(), body);
});

test('a site’s login_hint fills in a well-formed identity number, nothing else; discovery lists the languages', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '社保查询',
    department: '人力资源和社会保障厅',
    region_code: '440000',
    redirect_uris: ['http://localhost:8080/callback'],
    scope: 'openid profile',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const loginWith = async (hint: string) => {
    const { url } = await authorizationRequest(site, { scope: 'openid', extra: { login_hint: hint } });
    return (await new Browser().visit(url)).html.match(/name="id_number"[^>]*/)?.[0] ?? '';
  };
  const { idNumber } = newCitizen();
  t.regex(await loginWith(idNumber), new RegExp(`value="${idNumber}"`));
  const wrongCheck = `${idNumber.slice(0, 17)}${idNumber.endsWith('0') ? '1' : '0'}`;
  for (const hint of [wrongCheck, '"><script>alert(1)</script>', '13800138000'])
    t.regex(await loginWith(hint), /value=""/, hint);

  const discovery = (await (await fetch(`${yitong.issuer}/.well-known/openid-configuration`)).json()) as {
    ui_locales_supported?: string[];
  };
  t.deepEqual(discovery.ui_locales_supported, ['zh-CN', 'en']);
});

test('bad form submissions get a clear error page, never a 500', async (t) => {
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  const csrf = hiddenField(page.html, '_csrf');

  const noToken = await browser.visit(`${yitong.issuer}/register`, { form: { id_number: 'x' } });
  t.is(noToken.status, 403);
  t.regex(noToken.html, /页面已过期，请刷新后重新提交/);

  const wrongType = await fetch(`${yitong.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', cookie: browser.cookieHeader(new URL(yitong.issuer)) },
    body: `_csrf=${csrf}`,
  });
  t.is(wrongType.status, 415);
  t.regex(await wrongType.text(), /请求无效：应以表单提交。/, 'said in the page’s language');
  const notJson = await fetch(`${yitong.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: browser.cookieHeader(new URL(yitong.issuer)) },
    body: '{"_csrf":',
  });
  t.is(notJson.status, 400);
  const notJsonPage = await notJson.text();
  t.regex(notJsonPage, /请求无效：提交的内容不是有效的 JSON。/);
  t.notRegex(notJsonPage, /not valid JSON/);
  const english = await fetch(`${yitong.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', cookie: 'yitong.lang=en' },
    body: 'name=x',
  });
  t.regex(await english.text(), /Invalid request: form expected\./);

  const huge = await browser.visit(`${yitong.issuer}/register`, {
    form: { _csrf: csrf, name: 'x'.repeat(20_000) },
  });
  t.is(huge.status, 413);
  t.regex(huge.html, /提交的内容过大/);

  const repeated = await fetch(`${yitong.issuer}/register`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: browser.cookieHeader(new URL(yitong.issuer)),
    },
    body: `_csrf=${csrf}&id_number=1&id_number=2&name[]=x`,
  });
  t.is(repeated.status, 400);

  const missing = await browser.visit(`${yitong.issuer}/interaction/no-such-interaction`);
  t.is(missing.status, 400);
  t.regex(missing.html, /登录请求已过期或无效/);

  const notFound = await fetch(`${yitong.issuer}/nowhere`, { headers: { accept: 'application/json' } });
  t.is(notFound.status, 404);
  t.like(await notFound.json(), { error: 'not_found' });
});

test('registration in the browser: errors sit next to their field and keep what was typed (except passwords)', async (t) => {
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  const refused = await browser.visit(`${yitong.issuer}/register`, {
    form: {
      _csrf: hiddenField(page.html, '_csrf'),
      id_number: '110105194912310021',
      name: '李四',
      phone: '13900000000',
      password: 'p4ssword-long',
      password_confirm: 'p4ssword-long',
    },
  });
  t.is(refused.status, 400);
  t.regex(refused.html, /id="id_number-error" role="alert">身份证号码校验位不正确/);
  t.regex(refused.html, /aria-invalid="true"/);
  t.regex(refused.html, /value="李四"/);
  t.notRegex(refused.html, /p4ssword-long/);

  // Every wrong field at once, the first focused; what was typed stays (never the passwords).
  const several = await browser.visit(`${yitong.issuer}/register`, {
    form: {
      _csrf: hiddenField(page.html, '_csrf'),
      id_number: '110105194912310021',
      name: '李四<3',
      phone: '1390000',
      password: 'short',
      password_confirm: 'short',
    },
  });
  t.is(several.status, 400);
  for (const field of ['id_number', 'name', 'phone', 'password'])
    t.regex(several.html, new RegExp(`id="${field}-error" role="alert"`), field);
  t.is(several.html.match(/autofocus/g)?.length, 1);
  t.regex(several.html, /id="id_number" [^>]*autofocus/);
  t.regex(several.html, /value="1390000"/);
  t.notRegex(several.html, /value="short"/);
});

test('names that show as nothing, only punctuation or a pile of marks are refused; real names are kept', async (t) => {
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  const register = (name: string) => {
    const person = newCitizen();
    return submit(browser, page, '/register', {
      id_number: person.idNumber,
      name,
      phone: person.phone ?? '',
      password: person.password,
      password_confirm: person.password,
    });
  };
  const refused: Array<[string, RegExp]> = [
    ['...', /姓名须以文字开头/],
    ['-', /姓名须以文字开头/],
    ['\u0336', /姓名须以文字开头/],
    ['\u3164', /姓名须以文字开头/],
    ['\u3164\u3164\u3164', /姓名须以文字开头/],
    ['\u115f\u1160', /姓名须以文字开头/],
    ['\uffa0', /姓名须以文字开头/],
    ['\u2800', /姓名须以文字开头/],
    ['张\u200b三', /姓名须以文字开头/],
    [`Z${'\u0301'.repeat(49)}`, /附加符号/],
    ['Zh\u0430ng San', /混用了拉丁字母和西里尔或希腊字母/],
  ];
  for (const [name, message] of refused) {
    const answer = await register(name);
    t.is(answer.status, 400, JSON.stringify(name));
    t.regex(answer.html, /id="name-error" role="alert"/, JSON.stringify(name));
    t.regex(answer.html, message, JSON.stringify(name));
  }
  for (const name of [
    '阿依古丽·买买提',
    '李〇',
    '张三',
    "Mary-Jane O'Neil",
    'Zoe\u0308 d’Arc',
    'Иван Петров',
  ]) {
    const answer = await register(name);
    t.is(answer.status, 200, `${name}: ${answer.html.match(/role="alert">([^<]+)/)?.[1]}`);
  }
  const person = newCitizen();
  await submit(browser, page, '/register', {
    id_number: person.idNumber,
    name: 'Zoe\u0308',
    password: person.password,
    password_confirm: person.password,
  });
  const stored = await yitong.server.container.accounts.findPersonByIdNumber(person.idNumber as IdNumber);
  t.is(stored?.name, 'Zo\u00eb', 'stored composed (NFC)');
  const reader = new Browser();
  const english = await reader.visit(`${yitong.issuer}/register?lang=en`);
  const answer = await submit(reader, english, '/register', { name: '...' });
  t.regex(answer.html, /A name must begin with a letter/);
});

test('the registration page offers sign-in; its done page leads to sign-in and to recovery', async (t) => {
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  t.regex(page.html, /<a href="\/account">已有账号？登录<\/a>/);
  const refused = await submit(browser, page, '/register', { name: '' });
  t.regex(refused.html, /<a href="\/account">已有账号？登录<\/a>/, 'also after a refusal');
  const person = newCitizen();
  const done = await submit(browser, page, '/register', {
    id_number: person.idNumber,
    name: person.name,
    password: person.password,
    password_confirm: person.password,
  });
  t.is(done.status, 200);
  t.regex(done.html, /<a class="button" href="\/account">登录<\/a>/);
  t.regex(done.html, /<a href="\/recover">忘记密码？<\/a>/);
  t.regex(done.html, /请点“忘记密码”，用该账号验证过的手机号码找回密码/);
});

test('numbers typed with spaces, hyphens or full-width characters: registration and sign-in take them', async (t) => {
  const person = newCitizen('110105');
  const id = person.idNumber;
  // As copied from a card: groups split by an ASCII and an ideographic space; the phone grouped.
  const spaced = `${id.slice(0, 6)} ${id.slice(6, 14)}\u3000${id.slice(14)}`;
  const phone = `${person.phone.slice(0, 3)} ${person.phone.slice(3, 7)}-${person.phone.slice(7)}`;
  const browser = new Browser();
  const page = await browser.visit(`${yitong.issuer}/register`);
  const registered = await submit(browser, page, '/register', {
    id_number: spaced,
    name: person.name,
    phone,
    password: person.password,
    password_confirm: person.password,
  });
  t.is(registered.status, 200, registered.html.match(/role="alert">([^<]+)/)?.[1]);
  const stored = await yitong.server.container.accounts.findPersonByIdNumber(id as IdNumber);
  t.is(stored?.phone, person.phone, 'stored compact');

  // Full-width digits, as a Chinese input method types them, at sign-in.
  const fullWidth = [...id].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
  const signIn = new Browser();
  const login = await signIn.visit(`${yitong.issuer}/account`);
  const account = await submit(signIn, login, '/login', {
    id_number: ` ${fullWidth} `,
    password: person.password,
  });
  t.regex(account.url, /\/account$/);
  const spacedLogin = new Browser();
  const again = await submit(spacedLogin, await spacedLogin.visit(`${yitong.issuer}/account`), '/login', {
    id_number: spaced,
    password: person.password,
  });
  t.regex(again.url, /\/account$/);
});

test('the language link after a form leads to a page that shows the same step; a page showing something once has none', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  const login = await browser.visit(`${yitong.issuer}/account`);
  t.regex(login.html, /class="lang" href="\?lang=en"/, 'a page reached by GET reloads itself');
  const refused = await submit(browser, login, '/login', {
    id_number: person.idNumber,
    password: 'wrong password 1',
  });
  const href = refused.html.match(/class="lang" href="([^"]+)"/)?.[1] ?? '';
  t.regex(href, /^\/interaction\/[\w-]+\?lang=en$/);
  const english = await browser.visit(new URL(href, refused.url).href);
  t.is(english.status, 200);
  t.regex(english.html, /<html lang="en">/);
  t.regex(english.html, /name="password"/, 'still the sign-in step');

  await submit(browser, english, '/login', { id_number: person.idNumber, password: person.password });
  const enrolment = await browser.visit(`${yitong.issuer}/account/totp`);
  const secret = enrolment.html.match(/data-secret="([A-Z2-7]+)"/)?.[1] ?? '';
  const codes = await submit(browser, enrolment, '/account/totp', { otp: totpCode(secret, currentStep()) });
  t.regex(codes.html, /<li><code>/, 'the recovery codes');
  t.notRegex(codes.html, /class="lang"/, 'nothing on the page throws them away');
});
