/**
 * The citizen's data pages: the services menu marks the sites they used; the ledger shows each
 * release of claims to a site with exactly the claims that went, and exports CSV.
 */
import test from 'ava';
import * as client from 'openid-client';
import { signInTo } from '../helpers/account.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

const site = (client_id: string, client_name: string, scope: string, extra: Record<string, unknown> = {}) =>
  yitong.addClient({
    client_id,
    client_name,
    department: client_id.startsWith('tax') ? '税务局' : '人社局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope,
    ...extra,
  });

test('three sites with different scopes: the ledger lists each release with exactly those claims, newest first, and as CSV', async (t) => {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  await yitong.provePhone(sub, person.phone);
  const browser = new Browser();
  const flows: Array<[string, string]> = [
    ['tax-1', 'openid profile'],
    ['social-1', 'openid phone'],
    ['tax-2', 'openid profile phone'],
  ];
  for (const [id, scope] of flows) {
    const { clientId, clientSecret } = await site(id, `网站${id}`, scope, { purpose: `办理${id}业务` });
    const rp = await discoverSite(yitong.issuer, clientId, clientSecret);
    const pending = await authorizationRequest(rp, { scope });
    const walk = await walkAuthorization(browser, pending.url, person);
    const tokens = await exchangeCode(rp, walk.callbackUrl, pending);
    await client.fetchUserInfo(rp.config, tokens.access_token, sub);
  }
  const rows = await yitong.server.container.accountsRepo.listReleases(sub, 50);
  const userinfo = rows.filter((row) => row.details.use === 'userinfo').reverse();
  t.deepEqual(
    userinfo.map((row) => [row.details.client_id, [...(row.details.claims as string[])].sort()]),
    [
      ['tax-1', ['birthdate', 'gender', 'identity_level', 'name', 'sub']],
      ['social-1', ['phone_number', 'phone_number_verified', 'sub']],
      [
        'tax-2',
        ['birthdate', 'gender', 'identity_level', 'name', 'phone_number', 'phone_number_verified', 'sub'],
      ],
    ],
  );
  t.is(rows.filter((row) => row.details.use === 'id_token').length, 3);

  const page = await signInTo(new Browser(), yitong.issuer, person, '/account/releases');
  t.regex(page.html, /谁用了我的数据/);
  t.regex(page.html, /网站tax-2[\s\S]*网站social-1[\s\S]*网站tax-1/, 'newest first');
  t.regex(page.html, /网站查询：账号标识（[^）]*）、姓名/);
  t.regex(page.html, /网站tax-1<\/strong> · 税务局 · /, 'the department too');
  t.regex(page.html, /用途：办理tax-1业务/);
  t.regex(page.html, /手机号码/);

  // The citizen's CSV is in their language: local time, site, department, claims and purpose in words.
  const csv = await browserWith(person, '/account/releases?format=csv');
  const lines = csv.split('\r\n').filter(Boolean);
  t.is(lines[0], '\uFEFF时间（北京时间）,网站,主办部门,方式,提供的信息,核验信息（来源部门）,用途');
  t.is(lines.length, 7);
  t.regex(
    lines[1] ?? '',
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2},网站tax-2,税务局,网站查询,账号标识（[^）]*）、姓名、性别、出生日期、实名等级、手机号码、手机号码是否已验证,,办理tax-2业务$/,
  );
  const at = Date.parse(`${lines[1]?.slice(0, 16).replace(' ', 'T')}:00+08:00`);
  t.true(Math.abs(Date.now() - at) < 10 * 60_000, 'Beijing time, not UTC');
  t.notRegex(csv, /(^|,)tax-\d,|\bsub\b|phone_number|T\d{2}:/m, 'no ids, claim codes or ISO times');
  const english = await browserWith(person, '/account/releases?format=csv&lang=en');
  t.regex(
    english,
    /^\uFEFFTime \(Beijing\),Site,Department,How,Information given,Verified items \(source\),Purpose\r\n/,
  );
});

async function browserWith(person: { idNumber: string; password: string }, path: string) {
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  const response = await browser.request(`${yitong.issuer}${path}`);
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await response.arrayBuffer());
}

test('the services menu lists sites with a home page by category and region name, marks those used, and searches', async (t) => {
  await site('svc-tax', '电子税务局', 'openid profile', {
    client_uri: 'https://etax.example.gov.cn/',
    category: '税务',
  });
  await site('svc-social', '社保网上办', 'openid profile', {
    client_uri: 'https://si.example.gov.cn/',
    category: '社保',
  });
  await site('svc-hidden', '内部系统', 'openid profile');
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  const pending = await authorizationRequest(
    await discoverSite(yitong.issuer, 'svc-tax', 'unused-secret-for-the-authorization-url'),
    { scope: 'openid profile' },
  );
  await walkAuthorization(browser, pending.url, person);

  const menu = await browser.visit(`${yitong.issuer}/account/services`);
  t.regex(menu.html, /<h2>税务 · 广州市<\/h2>/, 'grouped by category and region, by name');
  t.notRegex(menu.html, /440100/, 'no region codes');
  t.regex(menu.html, /电子税务局<\/strong><\/a> · 人社局\s*<br><span class="hint">您用过这个网站/);
  t.notRegex(menu.html, /社保网上办<\/strong><\/a> · 人社局\s*<br>/, 'not used');
  t.regex(menu.html, /社保网上办/);
  t.notRegex(menu.html, /内部系统/, 'no public home page, not listed');
  const search = await browser.visit(`${yitong.issuer}/account/services?q=社保`);
  t.regex(search.html, /社保网上办/);
  t.notRegex(search.html, /电子税务局/);
  t.regex(menu.html, /href="https:\/\/etax\.example\.gov\.cn\/"/);

  // The home page is the front door: the same menu for everyone; sign in, or My page once signed in.
  const home = await browser.visit(`${yitong.issuer}/`);
  t.regex(home.html, new RegExp(`您已登录：${person.name}`));
  t.regex(home.html, /href="\/account">进入个人中心/);
  t.regex(home.html, /href="\/session\/end">退出登录/);
  t.regex(home.html, /<h3>税务 · 广州市<\/h3>/);
  const stranger = await new Browser().visit(`${yitong.issuer}/?q=${encodeURIComponent('广州')}`);
  t.regex(stranger.html, /href="\/account">登录/);
  t.regex(stranger.html, /href="\/register">/);
  t.regex(stranger.html, /href="\/recover">/);
  t.notRegex(stranger.html, /退出登录/);
  t.regex(stranger.html, /电子税务局/, 'a region name finds its sites');
  t.regex((await new Browser().visit(`${yitong.issuer}/?q=${encodeURIComponent('杭州')}`)).html, /没有找到/);
});
