/**
 * The admin console: region scoping (a city admin cannot read or change another city's people
 * or entities; the province admin can), 403 for everyone else, a step-up for a weak session, one
 * audit row per action, and the audit trail's filters and CSV export.
 */
import test from 'ava';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';
import { signInTo } from '../helpers/account.ts';
import { consoleAdmin } from '../helpers/admin.ts';
import { Browser, hiddenField, type Page, submit, submitConfirmed } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import { authorizationRequest, discoverSite, REDIRECT_URI, walkAuthorization } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

const administrator = (role: string, region: string) => consoleAdmin(yitong, role, region);

/** The console's search: a POST from its form, so the number never sits in a URL. */
const search = (admin: { browser: Browser; page: Page }, q: string) =>
  submit(admin.browser, admin.page, '/admin/search', { q });

const actionsOf = async (subject: string, prefix: string) =>
  (
    await yitong.server.container.database.db
      .selectFrom('audit_events')
      .select('action')
      .where('subject', '=', subject)
      .orderBy('seq')
      .execute()
  )
    .map((row) => row.action)
    .filter((action) => action.startsWith(prefix));

test('a city admin sees and locks people of the city only; the province admin anyone; each change one audit row', async (t) => {
  const [tianhe, shenzhen] = [newCitizen('440106'), newCitizen('440304')];
  const tianheSub = await yitong.createCitizen(tianhe);
  const shenzhenSub = await yitong.createCitizen(shenzhen);
  const city = await administrator('admin', '440100');
  t.is(city.page.status, 200);
  t.regex(city.page.html, /管理后台/);

  const found = await search(city, tianhe.idNumber);
  t.regex(found.html, new RegExp(`/admin/people/${tianheSub}`));
  t.regex(found.url, /\/admin\/search\/[\w-]{22}$/, 'no number in the URL');
  // Back from a person: the results again, not "resubmit the form?"; nobody else's to open.
  t.regex((await city.browser.visit(found.url)).html, new RegExp(`/admin/people/${tianheSub}`));
  const colleague = await administrator('admin', '440100');
  const theirs = await colleague.browser.visit(found.url);
  t.notRegex(theirs.html, new RegExp(`/admin/people/${tianheSub}`));
  t.regex(theirs.url, /\/admin$/);
  const typed = `${tianhe.idNumber.slice(0, 6)} ${tianhe.idNumber.slice(6, 14)} ${tianhe.idNumber.slice(14)}`;
  t.regex(
    (await search(city, typed)).html,
    new RegExp(`/admin/people/${tianheSub}`),
    'a number typed in groups',
  );
  const phone = `${tianhe.phone.slice(0, 3)} ${tianhe.phone.slice(3, 7)}-${tianhe.phone.slice(7)}`;
  t.regex(
    (await search(city, phone)).html,
    new RegExp(`/admin/people/${tianheSub}`),
    'a phone typed in groups',
  );
  const other = await search(city, shenzhen.idNumber);
  t.regex(other.html, /不在您的管辖区域内/);
  t.is((await city.browser.visit(`${yitong.issuer}/admin/people/${shenzhenSub}`)).status, 403);

  const person = await city.browser.visit(`${yitong.issuer}/admin/people/${tianheSub}`);
  t.regex(person.html, /440106\*{8}/);
  t.notRegex(person.html, new RegExp(tianhe.idNumber), 'masked');
  t.regex(
    person.html,
    new RegExp(`${tianhe.phone.slice(0, 3)}\\*{4}${tianhe.phone.slice(-4)} · 未验证`),
    'where a reset link would go, and that nobody proved it',
  );
  t.notRegex(person.html, new RegExp(tianhe.phone));
  const asked = await submit(city.browser, person, `/${tianheSub}/lock`);
  t.regex(asked.html, new RegExp(`锁定后，${tianhe.name}`));
  t.is(
    (await yitong.server.container.accounts.findPerson(tianheSub))?.status,
    'active',
    'not before confirming',
  );
  const locked = await submit(city.browser, asked, `/${tianheSub}/lock`, { confirmed: 'yes' });
  t.regex(locked.html, /账号已锁定/);
  t.is((await yitong.server.container.accounts.findPerson(tianheSub))?.status, 'locked');
  t.deepEqual(await actionsOf(tianheSub, 'account.'), ['account.registered', 'account.locked']);

  const forged = await city.browser.visit(`${yitong.issuer}/admin/people/${shenzhenSub}/lock`, {
    form: { _csrf: person.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', confirmed: 'yes' },
  });
  t.is(forged.status, 403);
  t.is((await yitong.server.container.accounts.findPerson(shenzhenSub))?.status, 'active', 'nothing changed');

  const province = await administrator('admin', '440000');
  const anyone = await province.browser.visit(`${yitong.issuer}/admin/people/${shenzhenSub}`);
  t.is(anyone.status, 200);
  await submitConfirmed(province.browser, anyone, `/${shenzhenSub}/sign-out`);
  t.deepEqual(await actionsOf(shenzhenSub, 'account.'), ['account.registered', 'account.signed_out']);
});

test('an administrator signs a person out everywhere: the sites are told, as when the person does it', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  const backchannel = await receiver(t.teardown, '/bc');
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '站点辛',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
    backchannel_logout_uri: backchannel.url,
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  await walkAuthorization(new Browser(), (await authorizationRequest(site, { scope: 'openid' })).url, person);
  const admin = await administrator('admin', '440106');
  const page = await admin.browser.visit(`${yitong.issuer}/admin/people/${sub}`);
  await submitConfirmed(admin.browser, page, `/${sub}/sign-out`);
  t.is(backchannel.received.length, 1, 'the site was told');
  const [row] = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('actor')
    .where('subject', '=', sub)
    .where('action', '=', 'account.signed_out')
    .execute();
  t.is(row?.actor, admin.sub, 'by the administrator');
});

test('a locked account’s session ends: the next authorization asks to sign in, and the password is refused', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  t.is((await browser.visit(`${yitong.issuer}/account`)).status, 200);
  const admin = await administrator('admin', '440106');
  const page = await admin.browser.visit(`${yitong.issuer}/admin/people/${sub}`);
  await submitConfirmed(admin.browser, page, `/${sub}/lock`);
  const after = await browser.visit(`${yitong.issuer}/account`);
  t.regex(after.html, /name="id_number"/, 'the session no longer counts');
  const refused = await submit(browser, after, '/login', {
    id_number: person.idNumber,
    password: person.password,
  });
  t.regex(refused.html, /该账号已被锁定/);
});

test('a person’s recent sign-ins: only successful ones, in Beijing time, the site by name, how in words', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  await signInTo(new Browser(), yitong.issuer, person);
  const failing = new Browser();
  await signInTo(failing, yitong.issuer, { ...person, password: 'not the password at all' });
  const admin = await administrator('auditor', '440100');
  const page = await admin.browser.visit(`${yitong.issuer}/admin/people/${sub}`);
  const list = page.html.slice(page.html.indexOf('最近登录'));
  const rows = [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => m[1] ?? '');
  t.is(rows.length, 1, 'the failed attempt is no sign-in');
  t.regex(
    rows[0] ?? '',
    /一通个人中心<br>\s*<span class="hint">\d{4}-\d{2}-\d{2} \d{2}:\d{2} · 密码 · [\d.:a-f]+<\/span>/,
  );
  t.notRegex(list, /yitong-account|urn:yitong|T\d{2}:\d{2}:\d{2}/, 'no raw ids, codes or ISO times');
  const english = await admin.browser.visit(`${yitong.issuer}/admin/people/${sub}?lang=en`);
  t.regex(english.html, /My account<br>\s*<span class="hint">[\d: -]+ · password · /);
  // A read-only auditor is not asked to confirm what it may not do.
  for (const action of ['lock', 'sign-out']) {
    const asked = await admin.browser.visit(`${yitong.issuer}/admin/people/${sub}/${action}`, {
      form: { _csrf: hiddenField(admin.page.html, '_csrf') },
    });
    t.is(asked.status, 403, action);
  }
});

test('everyone but administrators gets 403; an administrator with a password-only session steps up', async (t) => {
  const citizen = newCitizen();
  await yitong.createCitizen(citizen);
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, citizen);
  for (const path of [
    '/admin',
    '/admin/people/x',
    '/admin/legal-persons',
    '/admin/audit',
    '/admin/audit?format=csv',
  ])
    t.is((await browser.visit(`${yitong.issuer}${path}`)).status, 403, path);
  t.is((await browser.request(`${yitong.issuer}/admin/people/x/lock`, { form: {} })).status, 403);

  const person = newCitizen('440106');
  await yitong.createCitizen(person);
  await yitong.server.container.admin.addAdmin(person.idNumber, 'auditor', '440000');
  const weak = new Browser();
  await signInTo(weak, yitong.issuer, person);
  const stepUp = await weak.visit(`${yitong.issuer}/admin`);
  t.regex(stepUp.url, /\/interaction\//);
  t.regex(stepUp.html, /还没有设置第二重验证方式/, 'told how to get a second factor');
});

test('legal persons: a city admin confirms and suspends entities of the city only; an auditor changes nothing', async (t) => {
  const representative = newCitizen('440106');
  await yitong.createCitizen(representative);
  const code = (region: string) => {
    const first17 = `91${region}${'MA5CXK7U0'}`;
    return `${first17}${creditCheckCharacter(first17)}`;
  };
  const [here, there] = [code('440106'), code('440304')];
  for (const creditCode of [here, there])
    await yitong.server.container.legalPersons.createByOperator({
      creditCode,
      name: `公司${creditCode.slice(2, 8)}`,
      representativeIdNumber: representative.idNumber,
    });
  const city = await administrator('admin', '440100');
  const list = await city.browser.visit(`${yitong.issuer}/admin/legal-persons?q=${here}`);
  const suspended = await submit(city.browser, list, `/${here}/status`, { action: 'suspend' });
  t.regex(suspended.html, /单位状态已更新为：已暂停/);
  const elsewhere = await city.browser.visit(`${yitong.issuer}/admin/legal-persons?q=${there}`);
  t.regex(elsewhere.html, /不在您的管辖区域内/);
  const forged = await city.browser.visit(`${yitong.issuer}/admin/legal-persons/${there}/status`, {
    form: {
      _csrf: list.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      action: 'deregister',
      confirmed: 'yes',
    },
  });
  t.is(forged.status, 403);

  const auditor = await administrator('auditor', '440000');
  const view = await auditor.browser.visit(`${yitong.issuer}/admin/legal-persons?q=${there}`);
  t.notRegex(view.html, /name="action"/, 'no buttons for an auditor');
  const attempt = await auditor.browser.visit(`${yitong.issuer}/admin/legal-persons/${there}/status`, {
    form: {
      _csrf: view.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      action: 'deregister',
      confirmed: 'yes',
    },
  });
  t.is(attempt.status, 403);
  const entities = await yitong.server.container.database.db
    .selectFrom('legal_persons')
    .select(['credit_code', 'status'])
    .where('credit_code', 'in', [here, there])
    .execute();
  t.deepEqual(Object.fromEntries(entities.map((e) => [e.credit_code, e.status])), {
    [here]: 'suspended',
    [there]: 'active',
  });
});

test('the audit trail filters by person, action and time, and exports CSV', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  await signInTo(new Browser(), yitong.issuer, person);
  const auditor = await administrator('auditor', '440100');
  const page: Page = await auditor.browser.visit(`${yitong.issuer}/admin/audit?person=${sub}&action=signin`);
  t.is(page.status, 200);
  t.regex(page.html, /<td>登录<\/td>/, 'actions in words');
  // Chosen by their words, the current one selected; a prefix from the address kept as itself.
  t.regex(page.html, /<option value="signin" selected>登录<\/option>/);
  t.regex(page.html, /<option value="signin.failed">登录失败<\/option>/);
  const prefix = await auditor.browser.visit(`${yitong.issuer}/admin/audit?action=legal_person`);
  t.regex(prefix.html, /<option value="legal_person" selected>legal_person<\/option>/);
  t.notRegex(page.html, /<td>注册账号<\/td>/);
  // People by masked name and number, Beijing time, details in words, sites by name.
  const masked = `${[...person.name][0]}${'*'.repeat([...person.name].length - 1)} · ${person.idNumber.slice(0, 6)}`;
  t.true(page.html.includes(masked), 'the person by masked name and number');
  t.notRegex(page.html.slice(page.html.indexOf('<tbody>')), new RegExp(sub), 'no raw ids in the table');
  t.regex(page.html, /<td class="nowrap">\d{4}-\d{2}-\d{2} \d{2}:\d{2}<\/td>/);
  t.regex(page.html, /登录强度: urn:yitong:acr:pwd<br>登录方式: pwd<br>网站: 一通个人中心/);
  t.regex(page.html, /<main id="main" tabindex="-1" class="wide">/, 'wide enough for every column');
  const csv = await auditor.browser.request(`${yitong.issuer}/admin/audit?person=${sub}&format=csv`);
  t.is(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
  const bytes = Buffer.from(await csv.arrayBuffer());
  t.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, so spreadsheets read it as UTF-8');
  const text = bytes.toString('utf8');
  t.regex(text, /^\uFEFFseq,at,actor,action,subject,ip,details\r\n/);
  t.regex(text, /,account\.registered,/);
  const future = await auditor.browser.visit(`${yitong.issuer}/admin/audit?person=${sub}&from=2099-01-01`);
  t.notRegex(future.html, /<td>登录<\/td>/);
  const bad = await auditor.browser.visit(`${yitong.issuer}/admin/audit?from=yesterday`);
  t.is(bad.status, 400);
  t.regex(bad.html, /id="from-error" role="alert">日期应为/, 'next to its field');
  const backwards = await auditor.browser.visit(`${yitong.issuer}/admin/audit?from=2030-01-01&to=2020-01-01`);
  t.is(backwards.status, 400, 'a start after the end is a mistake, not an empty answer');
  t.regex(backwards.html, /id="from-error" role="alert">起始日期不能晚于截止日期/);
  t.regex(backwards.html, /id="from" [^>]*value="2030-01-01"[^>]*autofocus/, 'kept, to correct');
  t.is(
    (await auditor.browser.visit(`${yitong.issuer}/admin/audit?from=2020-01-01&to=2020-01-01`)).status,
    200,
  );
  const none = await auditor.browser.visit(`${yitong.issuer}/admin/audit?person=nobody-at-all`);
  t.regex(none.html, /<td colspan="7">没有符合条件的记录。<\/td>/);

  // A county auditor elsewhere sees none of this person's rows.
  const county = await administrator('auditor', '440304');
  const hidden = await county.browser.visit(`${yitong.issuer}/admin/audit?person=${sub}`);
  t.notRegex(hidden.html, /<td>登录<\/td>/);
});

test('claims: the console lists the open claims of the region with who made them; an admin confirms one naming the evidence, another region’s cannot', async (t) => {
  const claimant = newCitizen('440106');
  const claimantSub = await yitong.createCitizen(claimant);
  const person = await yitong.server.container.accounts.findPerson(claimantSub);
  if (!person) return t.fail('no person');
  const code = newCreditCode(); // issued in 440106
  const claim = await yitong.server.container.legalPersons.register(
    person,
    { creditCode: code, name: '待核验公司', type: 'enterprise', role: 'representative' },
    '127.0.0.1',
  );
  t.is(claim.status, 'pending');

  const elsewhere = await administrator('admin', '440304');
  const theirs = await elsewhere.browser.visit(`${yitong.issuer}/admin/legal-persons`);
  t.notRegex(theirs.html, new RegExp(code), 'another region’s claims are not listed');
  const forged = await elsewhere.browser.visit(
    `${yitong.issuer}/admin/legal-persons/claims/${claim.id}/confirm`,
    {
      form: { _csrf: theirs.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', evidence: '营业执照原件' },
    },
  );
  t.is(forged.status, 403);

  const city = await administrator('admin', '440100');
  const waiting = await city.browser.visit(`${yitong.issuer}/admin/legal-persons`);
  t.regex(waiting.html, /待确认的登记申请/);
  t.regex(waiting.html, new RegExp(`申请人：${claimant.name}（${claimant.idNumber.slice(0, 6)}\\*{8}`));
  const noEvidence = await submit(city.browser, waiting, `/claims/${claim.id}/confirm`, { evidence: '' });
  t.is(noEvidence.status, 400);
  // A claimant nobody verified says they are the representative: only a counter may prove that.
  const unverified = await submit(city.browser, waiting, `/claims/${claim.id}/confirm`, {
    evidence: '营业执照复印件',
  });
  t.is(unverified.status, 409);
  t.regex(unverified.html, /尚未完成实名核验/);
  await yitong.server.container.database.db
    .updateTable('people')
    .set({ identity_level: 2 })
    .where('id', '=', claimantSub)
    .execute();
  const confirmed = await submit(city.browser, waiting, `/claims/${claim.id}/confirm`, {
    evidence: '营业执照原件、法定代表人身份证原件',
  });
  t.regex(confirmed.html, /单位状态已更新为：正常/);
  const row = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'details'])
    .where('subject', '=', claim.id)
    .where('action', '=', 'legal_person.claim_confirmed')
    .executeTakeFirstOrThrow();
  t.is(row.actor, city.sub);
  t.like(row.details, { proof: 'admin', evidence: '营业执照原件、法定代表人身份证原件', credit_code: code });
});

test('the data page: the catalogue, and a person’s correction request answered by an admin of the source’s region only', async (t) => {
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  const { clientId } = await yitong.addClient({
    client_name: '广州市教育局数据接口',
    department: '广州市教育局',
    region_code: '440100',
    grant_types: ['client_credentials'],
    publishes: ['education'],
  });
  const { container } = yitong.server;
  await container.sources.publish(
    { clientId, department: '省教育厅', regionCode: '440000', publishes: new Set(['education']) },
    {
      holder: { id_number: person.idNumber },
      type: 'education',
      value: { level: '本科', institution: '中山大学', graduated_on: '2015-06-30' },
      verified_at: '2026-11-30T10:00:00+08:00',
      evidence: { type: 'electronic_record' },
    },
    '127.0.0.1',
  );
  await container.attributesRepo.requestCorrection(sub, 'education', '学校名称有误', {
    actor: sub,
    action: 'attribute.correction.requested',
    subject: sub,
  });
  const city = await administrator('admin', '440100');
  let page = await city.browser.visit(`${yitong.issuer}/admin/data`);
  t.regex(page.html, /<code>verified:household_registration<\/code>/, 'the catalogue');
  t.regex(page.html, /敏感（须说明事项和用途）/);
  t.regex(page.html, /学校名称有误/);
  const other = await administrator('admin', '440300');
  t.notRegex((await other.browser.visit(`${yitong.issuer}/admin/data`)).html, /学校名称有误/, 'another city');
  const id = /action="\/admin\/data\/corrections\/(\d+)"/.exec(page.html)?.[1] ?? '';
  const refused = await other.browser.visit(`${yitong.issuer}/admin/data/corrections/${id}`, {
    form: { _csrf: hiddenField(other.page.html, '_csrf'), answer: '已更正' },
  });
  t.is(refused.status, 403, 'not their region');
  t.regex(refused.html, /管辖区域/);
  page = await submit(city.browser, page, `/admin/data/corrections/${id}`, { answer: ' ' });
  t.is(page.status, 400);
  t.regex(page.html, /请用 2 至 500 个字答复/);
  page = await submit(city.browser, page, `/admin/data/corrections/${id}`, {
    answer: '已核实，学校名称已更正',
  });
  t.regex(page.html, /已答复/);
  t.notRegex(page.html, /学校名称有误/);
  t.like((await container.attributesRepo.correctionsOf(sub))[0], { answer: '已核实，学校名称已更正' });
  t.deepEqual(await actionsOf(sub, 'attribute.correction'), ['attribute.correction.requested']);
});
