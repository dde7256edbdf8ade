/**
 * Identity levels end to end: a site with `min_identity_level` 2 sends a level-1 person to the
 * page that raises it; the verifier (file-backed here) says yes or no; counter staff confirm
 * face to face for level 3, audited with staff, hall and time; nobody else reaches /staff.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as client from 'openid-client';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { deskStaff } from '../helpers/admin.ts';
import { Browser, hiddenField, type Page, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  type Site,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let site: Site;
const known = newCitizen();
const misnamed = newCitizen();

test.before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-verifier-'));
  const file = join(dir, 'authority.json');
  // The authority knows `known` by the name they registered with, and `misnamed` by another name.
  await writeFile(
    file,
    JSON.stringify([
      { id_number: known.idNumber, name: known.name },
      { id_number: misnamed.idNumber, name: '另一个名字' },
    ]),
  );
  yitong = await startYitong('postgres', { IDENTITY_VERIFIER_FILE: file });
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '社保',
    department: '人力资源和社会保障局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
    min_identity_level: 2,
  });
  site = await discoverSite(yitong.issuer, clientId, clientSecret);
});
test.after.always(() => yitong?.stop());

const errorText = (page: Page) => page.html.match(/role="alert">([^<]+)</)?.[1] ?? '';
const levelOf = async (sub: string) =>
  (await yitong.server.container.accounts.findPerson(sub))?.identityLevel;
/** The person's audit rows about identity levels and staff (sign-ins and the like left out). */
const auditOf = async (subject: string) =>
  (
    await yitong.server.container.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('subject', '=', subject)
      .orderBy('seq')
      .execute()
  ).filter((row) => /^(identity|staff)\./.test(row.action));

async function signInToSite(person: { idNumber: string; password: string }) {
  const browser = new Browser();
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const login = await browser.visit(pending.url);
  const page = await submit(browser, login, '/login', {
    id_number: person.idNumber,
    password: person.password,
  });
  return { browser, pending, page };
}

test('the verifier says no: the level stays 1, the page says why, and the site gets nothing', async (t) => {
  const sub = await yitong.createCitizen(misnamed);
  const { browser, page } = await signInToSite(misnamed);
  t.regex(page.html, /要求实名等级 2 级，您的账号目前是 1 级/);
  const refused = await submit(browser, page, '/identity', { name: misnamed.name });
  t.is(refused.status, 422);
  t.regex(errorText(refused), /姓名与身份证号码核验不一致/);
  t.is(await levelOf(sub), 1);
  t.deepEqual(
    (await auditOf(sub)).map((row) => row.action),
    ['identity.check_failed'],
  );
  const back = await submit(browser, refused, '/abort', {}, REDIRECT_URI);
  t.is(new URL(back.url).searchParams.get('error'), 'access_denied');
});

test('the verifier says yes: level 2, and the site receives identity_level 2', async (t) => {
  const sub = await yitong.createCitizen(known);
  const { browser, page, pending } = await signInToSite(known);
  const consent = await submit(browser, page, '/identity', { name: known.name });
  t.regex(consent.html, /同意并继续/);
  const back = await submit(browser, consent, '/consent', {}, REDIRECT_URI);
  const tokens = await exchangeCode(site, back.url, pending);
  const userinfo = await client.fetchUserInfo(site.config, tokens.access_token, sub);
  t.is(userinfo.identity_level, 2);
  t.is(await levelOf(sub), 2);
});

test('prompt=none below the minimum level is an error to the site', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  const { page } = await signInToSite(person); // a session, in another browser; start ours:
  t.regex(page.html, /实名等级/);
  const plainSite = await yitong.addClient({
    client_name: '咨询',
    department: '政务服务中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  const plain = await discoverSite(yitong.issuer, plainSite.clientId, plainSite.clientSecret);
  const first = await authorizationRequest(plain, { scope: 'openid profile' });
  await walkAuthorization(browser, first.url, person);
  const pending = await authorizationRequest(site, { scope: 'openid profile', extra: { prompt: 'none' } });
  const back = await browser.visit(pending.url, {}, REDIRECT_URI);
  t.is(new URL(back.url).searchParams.get('error'), 'interaction_required');
});

test('staff: a non-staff person gets 403; staff confirm face to face (level 3) with an audit entry', async (t) => {
  const visitor = newCitizen();
  await yitong.createCitizen(visitor);
  const visitorBrowser = new Browser();
  await signInTo(visitorBrowser, yitong.issuer, visitor);
  const forbidden = await visitorBrowser.visit(`${yitong.issuer}/staff`);
  t.is(forbidden.status, 403);
  const post = await visitorBrowser.request(`${yitong.issuer}/staff/confirm`, {
    form: { card_checked: 'yes' },
  });
  t.is(post.status, 403);

  const member = newCitizen();
  const memberSub = await yitong.createCitizen(member);
  await yitong.server.container.levels.addStaff(member.idNumber, '天河区政务服务中心', '440106');
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, member);
  // Signed in with a password only: the staff page asks for a second factor, and says how to add one.
  const stepUp = await browser.visit(`${yitong.issuer}/staff`);
  t.regex(stepUp.html, /还没有设置第二重验证方式/);
  const { authenticator } = await enrolTotp(browser, yitong.issuer);
  const staffBrowser = new Browser();
  const desk = await signInTo(staffBrowser, yitong.issuer, { ...member, authenticator }, '/staff');
  t.is(desk.status, 200);
  t.regex(desk.html, /天河区政务服务中心/);

  const resident = newCitizen('440106');
  const residentSub = await yitong.createCitizen(resident);
  // A hall serves its region: someone born elsewhere is sent to a hall that serves them.
  const elsewhere = newCitizen('330106');
  await yitong.createCitizen(elsewhere);
  const outside = await submit(staffBrowser, desk, '/staff/lookup', { id_number: elsewhere.idNumber });
  t.is(outside.status, 403);
  t.regex(outside.html, /不属于本大厅的服务区域/);
  const badNumber = await submit(staffBrowser, desk, '/staff/lookup', { id_number: '123' });
  t.is(badNumber.status, 400);
  const found = await submit(staffBrowser, badNumber, '/staff/lookup', { id_number: resident.idNumber });
  t.regex(found.html, new RegExp(resident.idNumber.slice(0, 6)));
  t.notRegex(found.html, new RegExp(resident.idNumber), 'the number is shown masked');
  const shown = (page: { html: string }) => ({
    card_checked: 'yes',
    person: hiddenField(page.html, 'person'),
  });
  // No tick: said next to the tick box, the person still shown, the look-up not used up.
  const unchecked = await submit(staffBrowser, found, '/staff/confirm', { person: shown(found).person });
  t.is(unchecked.status, 400);
  t.regex(unchecked.html, /id="card_checked-error" role="alert">请先勾选/);
  t.regex(unchecked.html, /id="card_checked" [^>]*autofocus/);
  t.regex(unchecked.html, new RegExp(`${resident.idNumber.slice(0, 6)}\\*{8}`), 'the person still shown');
  t.is(hiddenField(unchecked.html, 'person'), shown(found).person);
  const noTickReset = await staffBrowser.visit(`${yitong.issuer}/staff/reset`, {
    form: { _csrf: hiddenField(found.html, '_csrf'), person: shown(found).person },
  });
  t.is(noTickReset.status, 400);
  t.regex(noTickReset.html, /id="card_checked-error"/);
  t.is(await levelOf(residentSub), 1);
  // Two tabs: a look-up of someone else since then; this form's confirmation is refused.
  const second = newCitizen('440106');
  const secondSub = await yitong.createCitizen(second);
  await submit(staffBrowser, desk, '/staff/lookup', { id_number: second.idNumber });
  const mixed = await submit(staffBrowser, found, '/staff/confirm', shown(found));
  t.is(mixed.status, 409);
  t.regex(mixed.html, /您又查询了另一个人/);
  t.regex(mixed.html, /<a href="\/staff">返回窗口核验<\/a>/, 'the way back is the desk, not the home page');
  t.deepEqual([await levelOf(residentSub), await levelOf(secondSub)], [1, 1]);
  const foundAgain = await submit(staffBrowser, desk, '/staff/lookup', { id_number: resident.idNumber });
  const confirmed = await submit(staffBrowser, foundAgain, '/staff/confirm', shown(foundAgain));
  t.regex(confirmed.html, /实名等级为 3 级/);
  t.is(await levelOf(residentSub), 3);
  // The confirmation named the person looked up, once: a second one needs a new look-up.
  const again = await submit(staffBrowser, foundAgain, '/staff/confirm', shown(foundAgain));
  t.is(again.status, 400);
  t.regex(again.html, /请先查询要核验的人/);

  const rows = await auditOf(residentSub);
  t.deepEqual(
    rows.map((row) => row.action),
    ['staff.looked_up', 'staff.looked_up', 'identity.confirmed'],
  );
  const confirmation = rows[2];
  t.is(confirmation?.actor, memberSub);
  t.like(confirmation?.details, { hall: '天河区政务服务中心', region_code: '440106', from_level: 1 });
  t.true(Math.abs((confirmation?.at.getTime() ?? 0) - Date.now()) < 60_000);
  const previous = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('hash')
    .where('seq', '<', confirmation?.seq ?? '0')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  t.deepEqual(confirmation?.prev_hash, previous?.hash, 'each row carries the hash of the one before');
});

test('the authority out of reach: 503 with Retry-After, the level stays, and the day’s checks are not used up', async (t) => {
  const unreachable = await startYitong('postgres', { IDENTITY_VERIFIER_URL: 'http://127.0.0.1:9/verify' });
  t.teardown(() => unreachable.stop());
  const person = newCitizen();
  const sub = await unreachable.createCitizen(person);
  const browser = new Browser();
  const page = await signInTo(browser, unreachable.issuer, person);
  // More tries than the day allows (5): each one the authority's outage, never the limit.
  for (let i = 0; i < 7; i++) {
    const answer = await submit(browser, page, '/account/identity', { name: person.name });
    t.is(answer.status, 503);
    t.is(answer.headers?.get('retry-after'), '5');
  }
  t.is((await unreachable.server.container.accounts.findPerson(sub))?.identityLevel, 1);
});

test('staff look-ups: out of region refused by the number alone, every one audited and counted; a stale form leaves the current look-up', async (t) => {
  const node = await startYitong('postgres', { RATE_LIMITS: 'staff:lookup=4/3600' });
  t.teardown(() => node.stop());
  const { sub: memberSub, browser: staff, page: desk } = await deskStaff(node);
  const lookUp = (idNumber: string) => submit(staff, desk, '/staff/lookup', { id_number: idNumber });

  // Registered or not, a number of another region gets the same answer: nothing was looked up.
  const registeredElsewhere = newCitizen('330106');
  await node.createCitizen(registeredElsewhere);
  for (const number of [registeredElsewhere.idNumber, newCitizen('330106').idNumber])
    t.is((await lookUp(number)).status, 403);
  const unknown = newCitizen('440106').idNumber;
  t.is((await lookUp(unknown)).status, 404);
  const [a, b] = [newCitizen('440106'), newCitizen('440106')];
  const bSub = await node.createCitizen(b);
  await node.createCitizen(a);
  const foundA = await lookUp(a.idNumber);
  const foundB = await lookUp(b.idNumber);
  const confirm = (page: Page) =>
    submit(staff, page, '/staff/confirm', { card_checked: 'yes', person: hiddenField(page.html, 'person') });
  t.is((await confirm(foundA)).status, 409, 'the form of an earlier look-up');
  t.regex((await confirm(foundB)).html, /实名等级为 3 级/, 'the current look-up is still there');
  t.is((await node.server.container.accounts.findPerson(bSub))?.identityLevel, 3);

  const looked = await node.server.container.database.db
    .selectFrom('audit_events')
    .select(['subject', 'details'])
    .where('actor', '=', memberSub)
    .where('action', '=', 'staff.looked_up')
    .orderBy('seq')
    .execute();
  t.is(looked.length, 3, 'the unknown number and the two people; nothing for the refused ones');
  t.like(looked[0], { subject: null, details: { found: false, hall: '天河区政务服务中心' } });
  t.false(JSON.stringify(looked).includes(unknown), 'never the number');

  t.is((await lookUp(a.idNumber)).status, 200, 'the fourth of the hour');
  const limited = await lookUp(a.idNumber);
  t.is(limited.status, 429);
  t.regex(limited.html, /本窗口这一小时的查询次数已达上限/);
});
