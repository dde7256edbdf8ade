/**
 * The front door in a real browser (Chromium): axe-core finds no serious or critical problem on
 * any page, on a phone and a desktop, in Chinese and English; a citizen recovers a forgotten
 * password with their phone and authenticator app; the home page before and after signing in;
 * a form names every wrong field and focuses the first; counter staff and administrators sign
 * out of a shared PC; the console registers a service account and shows the organisation queue;
 * the citizen's ledger downloads as a CSV in their language.
 */
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { withAuthenticator } from '../helpers/admin.ts';
import { Browser as HttpBrowser } from '../helpers/browser.ts';
import {
  addVirtualAuthenticator,
  axeProblems,
  launchChromium,
  newProfile,
  screenshots,
  signInWithPassword,
} from '../helpers/chromium.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { messageWebhook } from '../helpers/receiver.ts';
import { authorizationRequest, discoverSite, REDIRECT_URI } from '../helpers/rp.ts';
import type { Authenticator } from '../helpers/totp.ts';
import { eventually } from '../helpers/wait.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let chromium: Browser;
let messages: () => Array<Record<string, string>>;
let closeWebhook = () => {};
/** The last recovery code sent to `phone`, once it arrives (it is sent in the background). */
const recoveryCode = (phone: string) =>
  eventually(
    'the recovery code',
    () => messages().findLast((m) => m.kind === 'recovery_code' && m.phone === phone)?.code,
  );

test.before(async () => {
  const webhook = await messageWebhook();
  messages = webhook.messages;
  closeWebhook = webhook.close;
  [yitong, chromium] = await Promise.all([
    startYitong('postgres', { NOTIFIER_URL: webhook.url }),
    launchChromium(),
  ]);
  await yitong.addClient({
    client_id: 'front-social',
    client_name: '社保查询',
    department: '省人力资源和社会保障厅',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    client_uri: 'https://shebao.example.gov.cn/',
    category: '社会保障',
  });
});
test.after.always(async () => {
  closeWebhook();
  await chromium?.close();
  await yitong?.stop();
});

/** Signs in on the page the browser was sent to, with the authenticator's code when asked. */
async function signIn(
  page: Page,
  person: { idNumber: string; password: string },
  authenticator?: Authenticator,
) {
  await signInWithPassword(page, person);
  if (authenticator) {
    await page.getByLabel('动态验证码').fill(await authenticator.nextCode());
    await page.getByRole('button', { name: '验证', exact: true }).click();
  }
}

test('every page, in Chinese and English, on a phone and a desktop: no serious or critical axe violation', async (t) => {
  const { person, authenticator, sub } = await withAuthenticator(yitong, '440103', {
    role: 'admin',
    region: '440000',
  });
  await yitong.server.container.levels.addStaff(person.idNumber, '天河区政务服务中心', '440000');
  await yitong.provePhone(sub, person.phone);
  // Something verified about them, for 我的证照与数据.
  await yitong.server.container.sources.publish(
    {
      clientId: 'front-social',
      department: '省人力资源和社会保障厅',
      regionCode: '440000',
      publishes: new Set(['social_insurance']),
    },
    {
      holder: { id_number: person.idNumber },
      type: 'social_insurance',
      value: { insurances: ['养老保险', '医疗保险'], insured_in: '440106', since: '2012-07-01' },
      verified_at: '2026-12-01T09:00:00+08:00',
      evidence: { type: 'electronic_record' },
    },
    '127.0.0.1',
  );
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  const problems: string[] = [];
  const check = async (label: string) => {
    for (const lang of ['en', 'zh-CN']) {
      const url = new URL(page.url());
      url.searchParams.set('lang', lang);
      await page.goto(url.href);
      problems.push(...(await axeProblems(page)).map((problem) => `${label} (${lang}) ${problem}`));
    }
  };

  for (const path of ['/', '/register', '/recover', '/developers']) {
    await page.goto(`${yitong.issuer}${path}`);
    await check(path);
  }
  await page.goto(`${yitong.issuer}/account`);
  await check('sign-in page');
  await signIn(page, person, authenticator);
  await page.waitForURL(`${yitong.issuer}/account`);
  for (const path of [
    '/',
    '/account',
    '/account/sites',
    '/account/sessions',
    '/account/releases',
    '/account/services',
    '/account/data',
    '/account/entities',
    '/account/phone',
    '/account/delete',
    '/staff',
    '/admin',
    '/admin/clients',
    '/admin/clients/front-social',
    `/admin/people/${sub}`,
    '/admin/audit',
    '/admin/legal-persons',
    '/admin/data',
  ]) {
    await page.goto(`${yitong.issuer}${path}`);
    await check(path);
  }
  await page.goto(`${yitong.issuer}/account/data`);
  await screenshots(page, 'my-page-data');
  t.regex(await page.locator('main').innerText(), /社会保险参保[\s\S]*参保险种\n养老保险、医疗保险/);
  // The confirmation before something cannot be undone.
  await page.goto(`${yitong.issuer}/account/sessions`);
  await page.getByRole('button', { name: '在所有设备上退出' }).click();
  await page.getByRole('button', { name: '在所有设备上退出' }).waitFor();
  problems.push(...(await axeProblems(page)).map((problem) => `confirmation ${problem}`));
  t.deepEqual(problems, []);
});

test('a forgotten password, recovered with the proved phone and the authenticator app; a stranger sees the same page', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  await yitong.provePhone(sub, person.phone);
  const setup = new HttpBrowser();
  await signInTo(setup, yitong.issuer, person);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());

  const ask = async (idNumber: string, phone: string) => {
    await page.goto(`${yitong.issuer}/account`);
    await page.getByRole('link', { name: '忘记密码？' }).click();
    await page.getByLabel('居民身份证号码').fill(idNumber);
    await page.getByLabel('手机号码').fill(phone);
    await page.getByRole('button', { name: '发送验证码' }).click();
    await page.getByLabel('验证码', { exact: true }).waitFor();
    // The words as read (a line's trailing space comes and goes with rendering, not with the answer).
    return (await page.locator('main').innerText()).replace(/\d{3}\*{4}\d{4}/, '').replace(/[ \t]+$/gm, '');
  };
  const stranger = newCitizen('440106');
  const strangers = await ask(stranger.idNumber, stranger.phone);
  await screenshots(page, 'recover-code');
  const owners = await ask(person.idNumber, person.phone);
  t.is(owners, strangers, 'the same answer whether or not the numbers belong together');
  const code = await recoveryCode(person.phone);
  t.false(
    messages().some((m) => m.phone === stranger.phone),
    'nothing sent for a stranger',
  );

  await page.getByLabel('验证码', { exact: true }).fill(code);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.getByLabel('动态验证码').fill(await authenticator.nextCode());
  await screenshots(page, 'recover-factor');
  await page.getByRole('button', { name: '验证', exact: true }).click();
  const password = 'recovered in the browser 2026';
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('确认密码').fill(password);
  await page.getByRole('button', { name: '设置新密码' }).click();
  await page.getByText('所有设备和网站上的登录均已退出').waitFor();
  t.true(messages().some((m) => m.kind === 'password_recovered' && m.personId === sub));
  await new Promise((resolve) => setTimeout(resolve, 1100)); // sign-ins in the second of the change count as before it
  await page.goto(`${yitong.issuer}/account`);
  await signIn(page, { ...person, password }, authenticator);
  await page.waitForURL(`${yitong.issuer}/account`);
  t.pass('signed in with the new password');
});

test('the home page: sign in, register and the services menu before; My page and sign-out after', async (t) => {
  const person = newCitizen('440106');
  await yitong.createCitizen(person);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await page.goto(`${yitong.issuer}/`);
  await screenshots(page, 'home');
  t.true(await page.getByRole('link', { name: '注册个人账号' }).isVisible());
  await page.getByLabel('搜索网站、部门或类别').fill('社会保障');
  await page.getByRole('button', { name: '查询' }).click();
  t.regex(await page.locator('main').innerText(), /社会保障 · 广东省\n社保查询 · 省人力资源和社会保障厅/);
  await page.getByRole('link', { name: '登录', exact: true }).click();
  await signIn(page, person);
  await page.waitForURL(`${yitong.issuer}/account`);
  await page.goto(`${yitong.issuer}/`);
  t.true(await page.getByText(`您已登录：${person.name}`).isVisible());
  await page.getByRole('link', { name: '退出登录' }).click();
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.goto(`${yitong.issuer}/`);
  t.true(await page.getByRole('link', { name: '登录', exact: true }).isVisible(), 'signed out');
});

test('registration names every wrong field at once, focuses the first and keeps what was typed', async (t) => {
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await page.goto(`${yitong.issuer}/register`);
  await page.getByLabel('居民身份证号码').fill('110105194912310021');
  await page.getByLabel('姓名').fill('李四<3');
  await page.getByLabel('手机号码').fill('1390000');
  await page.getByLabel('密码', { exact: true }).fill('short');
  await page.getByLabel('确认密码').fill('short');
  await page.getByRole('button', { name: '注册' }).click();
  await page.locator('#id_number-error').waitFor();
  t.is(await page.locator('[aria-invalid="true"]').count(), 4);
  t.is(await page.evaluate(() => document.activeElement?.id), 'id_number', 'the first wrong field has focus');
  t.is(await page.getByLabel('手机号码').inputValue(), '1390000');
  t.is(await page.getByLabel('密码', { exact: true }).inputValue(), '', 'never the password');
  await screenshots(page, 'register-errors');
});

test('a refused sign-in and an unticked deletion put the focus where the person must act', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await page.goto(`${yitong.issuer}/account`);
  await signInWithPassword(page, { ...person, password: 'not the password at all' });
  await page.getByText('身份证号码或密码不正确').waitFor();
  t.is(await page.evaluate(() => document.activeElement?.id), 'password', 'the password, to type again');
  await page.getByLabel('密码', { exact: true }).fill(person.password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(`${yitong.issuer}/account`);

  await page.goto(`${yitong.issuer}/account/delete`);
  await page.getByRole('button', { name: '申请注销' }).click();
  await page.locator('#confirm-error').waitFor();
  t.is(await page.evaluate(() => document.activeElement?.id), 'confirm', 'the box to tick');
});

test('on a 375px phone no page scrolls sideways: tables scroll whole inside their wrapper; a choice wraps', async (t) => {
  const { person, authenticator } = await withAuthenticator(yitong, '440103', {
    role: 'admin',
    region: '440000',
  });
  await yitong.server.container.legalPersons.createByOperator({
    creditCode: newCreditCode(),
    name: '广州市天河区智慧政务信息科技有限公司',
    representativeIdNumber: person.idNumber,
  });
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '电子税务局',
    department: '国家税务总局广东省税务局',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile legal_person',
  });
  const taxSite = await discoverSite(yitong.issuer, clientId, clientSecret);
  const { context, page } = await newProfile(chromium, { viewport: { width: 375, height: 740 } });
  t.teardown(() => context.close());
  const sideways = async (label: string) =>
    t.true(
      await page.evaluate(() => document.documentElement.scrollWidth <= 375),
      `${label}: ${await page.evaluate(() => document.documentElement.scrollWidth)}px wide`,
    );

  await page.goto(`${yitong.issuer}/admin/audit`);
  await signIn(page, person, authenticator);
  await page.waitForURL(`${yitong.issuer}/admin/audit`);
  for (const path of ['/admin/audit', '/admin/data', '/developers'])
    for (const lang of ['zh-CN', 'en']) {
      await page.goto(`${yitong.issuer}${path}?lang=${lang}`);
      await sideways(`${path} (${lang})`);
    }
  // A masked identity number in the trail stays on one line; the table scrolls instead.
  await page.goto(`${yitong.issuer}/admin/audit?lang=zh-CN`);
  const layout = await page.evaluate(() => {
    const cell = Array.from(document.querySelectorAll('td')).find((td) =>
      /\d{6}\*{8}/.test(td.textContent ?? ''),
    );
    const text = Array.from(cell?.childNodes ?? []).find((node) => /\d{6}\*{8}/.test(node.textContent ?? ''));
    const start = text?.textContent?.search(/\d{6}\*{8}/) ?? -1;
    if (!text || start < 0) return undefined;
    const range = document.createRange();
    range.setStart(text, start);
    range.setEnd(text, start + 18);
    const wrapper = document.querySelector('.table') as HTMLElement;
    return {
      lines: new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top))).size,
      scrolls: (wrapper.querySelector('table') as HTMLElement).offsetWidth > wrapper.clientWidth,
    };
  });
  t.deepEqual(layout, { lines: 1, scrolls: true });

  // Choosing the organisation, in English: the button wraps below the name rather than off the screen.
  const pending = await authorizationRequest(taxSite, { scope: 'openid profile legal_person' });
  await page.goto(pending.url);
  const choose = page.getByRole('button', { name: /以此单位办事/ });
  const agree = page.getByRole('button', { name: '同意并继续' });
  await choose.or(agree).first().waitFor();
  if (await agree.isVisible()) await agree.click();
  await choose.waitFor();
  await page.goto(`${page.url()}?lang=en`);
  await page.getByRole('button', { name: /Act for this organisation/ }).waitFor();
  await sideways('choose-entity (en)');
});

test('counter staff and an administrator sign out of a shared PC; the console registers a service account and lists organisations waiting', async (t) => {
  const { person, authenticator } = await withAuthenticator(yitong, '440103', {
    role: 'admin',
    region: '440100',
  });
  await yitong.server.container.levels.addStaff(person.idNumber, '越秀区政务服务中心', '440100');
  const claimant = newCitizen('440106');
  const claimantSub = await yitong.createCitizen(claimant);
  const code = newCreditCode();
  const claimantPerson = await yitong.server.container.accounts.findPerson(claimantSub);
  if (!claimantPerson) return t.fail();
  await yitong.server.container.legalPersons.register(
    claimantPerson,
    { creditCode: code, name: '排队待核公司', type: 'enterprise', role: 'representative' },
    '127.0.0.1',
  );
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());

  await page.goto(`${yitong.issuer}/admin/legal-persons`);
  await signIn(page, person, authenticator);
  await page.waitForURL(`${yitong.issuer}/admin/legal-persons`);
  const queue = await page.locator('main').innerText();
  t.regex(queue, /待确认的登记申请/);
  t.regex(queue, new RegExp(`排队待核公司[\\s\\S]*申请人：${claimant.name}`));
  await screenshots(page, 'admin-legal-queue');

  await page.goto(`${yitong.issuer}/admin/clients`);
  await page.getByLabel('网站编号（client_id）').fill('gz-robot');
  await page.getByLabel('网站名称').fill('广州数据核验服务');
  await page.getByLabel('主办部门').fill('广州市政务服务数据管理局');
  await page.getByLabel('行政区划代码').fill('440100');
  await page.getByLabel('用户登录（授权码）').uncheck();
  await page.getByLabel(/服务账号调用接口/).check();
  await page.getByLabel('可申请的授权范围').fill('');
  await page.getByRole('button', { name: '登记新网站' }).click();
  await page.locator('code.secret').waitFor();
  t.regex(await page.locator('main').innerText(), /服务账号调用接口/);
  await screenshots(page, 'admin-service-account');

  for (const path of ['/staff', '/admin']) {
    await page.goto(`${yitong.issuer}${path}`);
    await page.getByRole('link', { name: '退出登录' }).click();
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.goto(`${yitong.issuer}${path}`);
    t.true(await page.getByLabel('居民身份证号码').isVisible(), `${path}: signed out`);
    await signIn(page, person, authenticator);
    await page.waitForURL(`${yitong.issuer}${path}`);
  }
});

test('the citizen downloads their ledger as a CSV in their own language', async (t) => {
  const person = newCitizen('440106');
  await yitong.createCitizen(person);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await page.goto(`${yitong.issuer}/account/releases`);
  await signIn(page, person);
  await page.waitForURL(`${yitong.issuer}/account/releases`);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /CSV/ }).click(),
  ]);
  const path = await download.path();
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path, 'utf8');
  t.regex(text, /^\uFEFF时间（北京时间）,网站,主办部门,方式,提供的信息,核验信息（来源部门）,用途\r\n/);
});

test('a forgotten password on an account with a passkey: the passkey is asked after the code', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  await yitong.provePhone(sub, person.phone);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await addVirtualAuthenticator(context, page);
  await page.goto(`${yitong.issuer}/account`);
  await signIn(page, person);
  await page.waitForURL(`${yitong.issuer}/account`);
  await page.getByLabel('通行密钥名称').fill('我的手机');
  await page.locator('[data-action="passkey-add"]').click();
  await page.waitForURL(/\/account\?done=passkey-added/);
  await page.goto(`${yitong.issuer}/session/end`);
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.getByText('已退出登录').first().waitFor();

  await page.goto(`${yitong.issuer}/recover`);
  await page.getByLabel('居民身份证号码').fill(person.idNumber);
  await page.getByLabel('手机号码').fill(person.phone);
  await page.getByRole('button', { name: '发送验证码' }).click();
  await page.getByLabel('验证码', { exact: true }).waitFor();
  const code = await recoveryCode(person.phone);
  await page.getByLabel('验证码', { exact: true }).fill(code);
  await page.getByRole('button', { name: '下一步' }).click();
  await page.waitForURL(`${yitong.issuer}/recover/factor`);
  t.is(await page.getByLabel('动态验证码').count(), 0, 'no authenticator app: only the passkey');
  await page.locator('[data-action="passkey-verify"]').click();
  await page.waitForURL(`${yitong.issuer}/recover/password`);
  const password = 'recovered with a passkey 2026';
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('确认密码').fill(password);
  await page.getByRole('button', { name: '设置新密码' }).click();
  await page.getByText('所有设备和网站上的登录均已退出').waitFor();
  const rows = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', sub)
    .where('action', '=', 'password.recovered')
    .execute();
  t.is(rows.length, 1);
});
