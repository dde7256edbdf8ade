/**
 * The enterprise pages over HTTP: registering an entity, its page, authorising and revoking, and
 * what a citizen who does not administer it gets (403, nothing changes).
 */
import test from 'ava';
import { signInTo } from '../helpers/account.ts';
import { Browser, type Page, submit } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let tax: { clientId: string; clientSecret: string };
test.before(async () => {
  yitong = await startYitong('postgres');
  tax = await yitong.addClient({
    client_id: 'tax',
    client_name: '电子税务局',
    department: '税务局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid legal_person',
  });
});
test.after.always(() => yitong?.stop());

async function signedIn(level = 1) {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  if (level > 1)
    await yitong.server.container.database.db
      .updateTable('people')
      .set({ identity_level: level })
      .where('id', '=', sub)
      .execute();
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  return { person, sub, browser, page: await browser.visit(`${yitong.issuer}/account/entities`) };
}

const errorText = (page: Page) => page.html.match(/role="alert">([^<]+)</)?.[1] ?? '';
const members = async (code: string) =>
  (
    await yitong.server.container.database.db
      .selectFrom('memberships')
      .innerJoin('legal_persons', 'legal_persons.id', 'memberships.legal_person_id')
      .select(['memberships.person_id', 'memberships.role'])
      .where('legal_persons.credit_code', '=', code)
      .execute()
  ).map((row) => row.role);

test('a verified representative registers an entity (active), authorises an agent for one site, then revokes', async (t) => {
  const { browser, page } = await signedIn(2);
  const code = newCreditCode();
  const registered = await submit(browser, page, '/account/entities', {
    credit_code: code.toLowerCase(),
    name: '广州测试科技有限公司',
    type: 'enterprise',
    role: 'representative',
  });
  t.regex(registered.url, new RegExp(`/account/entities/${code}\\?done=registered$`));
  t.regex(registered.html, /单位已登记/);
  t.regex(registered.html, /正常/);

  const colleague = newCitizen();
  await yitong.createCitizen(colleague);
  const granted = await submit(browser, registered, '/members', {
    id_number: colleague.idNumber,
    role: 'agent',
    clients: 'tax',
    until: '2099-12-31',
  });
  t.regex(granted.html, /已授权/);
  t.regex(granted.html, /仅限：tax/);
  t.regex(granted.html, /有效期至 2099-12-31/);
  t.deepEqual((await members(code)).sort(), ['agent', 'representative']);

  const revokeAction = [...granted.html.matchAll(/action="([^"]+\/revoke)"/g)].map((m) => m[1] as string);
  t.is(revokeAction.length, 1, 'only the agent can be revoked here, not the representative');
  const revoked = await submit(browser, granted, revokeAction[0] as string);
  t.regex(revoked.html, /已撤销授权/);
  t.deepEqual(await members(code), ['representative']);
});

test('registered by someone else, an entity waits for confirmation; the CLI-style confirm activates it', async (t) => {
  const { browser, page } = await signedIn();
  const representative = newCitizen();
  await yitong.createCitizen(representative);
  const code = newCreditCode();
  const registered = await submit(browser, page, '/account/entities', {
    credit_code: code,
    name: '待确认公司',
    type: 'institution',
    role: 'administrator',
    representative_id_number: representative.idNumber,
  });
  t.regex(registered.html, /待确认/);
  t.deepEqual((await members(code)).sort(), ['administrator', 'representative']);
  await yitong.server.container.legalPersons.confirm(code);
  t.regex((await browser.visit(registered.url.replace(/\?.*/, ''))).html, /正常/);
});

test('bad input is shown next to the form and writes nothing', async (t) => {
  const { browser, page } = await signedIn();
  const malformed = await submit(browser, page, '/account/entities', {
    credit_code: '91350100M000100Y44',
    name: '坏公司',
    type: 'enterprise',
    role: 'representative',
  });
  t.is(malformed.status, 400);
  t.regex(malformed.html, /校验位不正确/);
  t.regex(malformed.html, /value="坏公司"/, 'what was typed is kept');

  const code = newCreditCode();
  const first = await submit(browser, page, '/account/entities', {
    credit_code: code,
    name: '先登记公司',
    type: 'enterprise',
    role: 'representative',
  });
  t.is(first.status, 200);
  const other = await signedIn();
  const duplicate = await submit(other.browser, other.page, '/account/entities', {
    credit_code: code,
    name: '后登记公司',
    type: 'enterprise',
    role: 'representative',
  });
  t.is(duplicate.status, 409);
  t.regex(errorText(duplicate), /该统一社会信用代码已登记/);

  const unregistered = await submit(browser, first, '/members', {
    id_number: newCitizen().idNumber,
    role: 'agent',
  });
  t.is(unregistered.status, 404);
  t.regex(unregistered.html, /尚未注册一通账号/);
  t.deepEqual(await members(code), ['representative']);
});

test('a citizen who does not administer an entity gets 403 on its pages and changes nothing', async (t) => {
  const owner = await signedIn();
  const code = newCreditCode();
  const page = await submit(owner.browser, owner.page, '/account/entities', {
    credit_code: code,
    name: '别人的公司',
    type: 'enterprise',
    role: 'representative',
  });
  const representativeId = page.html.match(/\/members\/([\w-]+)\/revoke/)?.[1];
  t.is(representativeId, undefined, 'no revoke button for the representative');

  const stranger = await signedIn();
  t.is((await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}`)).status, 403);
  const grant = await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}/members`, {
    form: {
      _csrf: stranger.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      id_number: stranger.person.idNumber,
      role: 'administrator',
    },
  });
  t.is(grant.status, 403);
  const revoke = await stranger.browser.visit(
    `${yitong.issuer}/account/entities/${code}/members/${owner.sub}/revoke`,
    {
      form: { _csrf: stranger.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
    },
  );
  t.is(revoke.status, 403);
  t.deepEqual(await members(code), ['representative']);

  // An agent sees the page but cannot manage.
  await yitong.server.container.legalPersons.grant('cli', code, {
    idNumber: stranger.person.idNumber,
    role: 'agent',
  });
  const asAgent = await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}`);
  t.is(asAgent.status, 200);
  t.notRegex(asAgent.html, /\/members"/, 'no grant form');
  const self = await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}/members`, {
    form: {
      _csrf: stranger.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      id_number: stranger.person.idNumber,
      role: 'administrator',
    },
  });
  t.is(self.status, 403, 'an agent cannot make themself administrator');
  t.deepEqual((await members(code)).sort(), ['agent', 'representative']);
});

test('done when: a citizen registers an enterprise, authorises a colleague for one site, who signs in once and acts for it there', async (t) => {
  const { browser, page } = await signedIn(2);
  const code = newCreditCode();
  const registered = await submit(browser, page, '/account/entities', {
    credit_code: code,
    name: '一通示范有限公司',
    type: 'enterprise',
    role: 'representative',
  });
  const colleague = newCitizen();
  const colleagueSub = await yitong.createCitizen(colleague);
  await submit(browser, registered, '/members', {
    id_number: colleague.idNumber,
    role: 'agent',
    clients: 'tax',
  });

  const site = await discoverSite(yitong.issuer, tax.clientId, tax.clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid legal_person' });
  const them = new Browser();
  const login = await them.visit(pending.url);
  const choose = await submit(them, login, '/login', {
    id_number: colleague.idNumber,
    password: colleague.password,
  });
  t.regex(choose.html, /一通示范有限公司/);
  const consent = await submit(them, choose, '/entity', {
    legal_person_id: choose.html.match(/name="legal_person_id" value="([^"]+)"/)?.[1] ?? '',
  });
  t.regex(consent.html, /您代表的单位/, 'the consent page says what is released');
  const back = await submit(them, consent, '/consent', {}, REDIRECT_URI);
  const claims = (await exchangeCode(site, back.url, pending)).claims();
  t.is(claims?.sub, colleagueSub);
  t.like(claims?.legal_person, {
    credit_code: code,
    name: '一通示范有限公司',
    role: 'agent',
    status: 'active',
  });

  const entityPage = await browser.visit(`${yitong.issuer}/account/entities/${code}`);
  t.regex(entityPage.html, /电子税务局/, 'the entity page lists the site its people used');
});
