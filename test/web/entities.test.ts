/**
 * The enterprise pages over HTTP: registering an entity (proved by the business register, else a
 * claim that waits and blocks nobody), its page, authorising and revoking, and what a citizen
 * who does not administer it gets (403, nothing changes).
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sql } from 'kysely';
import { signInTo } from '../helpers/account.ts';
import { Browser, type Page, submit } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let tax: { clientId: string; clientSecret: string };
/** Representatives the business register lists, each with a code and the registered name. */
const registered = Array.from({ length: 12 }, (_, i) => ({
  person: newCitizen(),
  code: newCreditCode(),
  name: `登记示范有限公司${i}`,
}));
test.before(async () => {
  const file = join(tmpdir(), `registry-${process.pid}-${Date.now()}.json`);
  await writeFile(
    file,
    JSON.stringify(
      registered.map((r) => ({
        credit_code: r.code,
        name: r.name,
        representative_id_number: r.person.idNumber,
        representative_name: r.person.name,
      })),
    ),
  );
  yitong = await startYitong('postgres', { BUSINESS_REGISTRY_FILE: file });
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

async function signedIn(level = 1, person = newCitizen()) {
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

/** A representative the business register lists, at level 2, signed in, with their code. */
async function listedRepresentative() {
  const record = registered.pop();
  if (!record) throw new Error('add more records to the registry file');
  return { ...(await signedIn(2, record.person)), code: record.code, registeredName: record.name };
}

const registerEntity = (
  who: { browser: Browser; page: Page },
  code: string,
  fields: Record<string, string> = {},
) =>
  submit(who.browser, who.page, '/account/entities', {
    credit_code: code,
    name: '自填名称公司',
    type: 'enterprise',
    role: 'representative',
    ...fields,
  });

const entities = (code: string) =>
  yitong.server.container.database.db
    .selectFrom('legal_persons')
    .select(['id', 'status'])
    .where('credit_code', '=', code)
    .execute();

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

test('a verified representative the business register lists registers an entity (active, its registered name), authorises an agent for one site, then revokes', async (t) => {
  const { browser, page, code, registeredName } = await listedRepresentative();
  const registered = await registerEntity({ browser, page }, code.toLowerCase());
  t.regex(registered.url, new RegExp(`/account/entities/${code}\\?done=registered$`));
  t.regex(registered.html, /单位已登记/);
  t.regex(registered.html, /正常/);
  t.regex(registered.html, new RegExp(registeredName), 'the name the register gives, not the one typed');

  const colleague = newCitizen();
  await yitong.createCitizen(colleague);
  // The sites that ask whom a person acts for, offered by name, not by an id nobody knows; only those.
  t.regex(registered.html, /<label for="client_tax">电子税务局 <span class="hint">税务局<\/span><\/label>/);
  const { clientId: other } = await yitong.addClient({
    client_name: '不问单位的网站',
    department: '某局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  for (const forged of [`client_${other}`, `client_tax,${other}`]) {
    const refused = await submit(browser, registered, '/members', {
      id_number: colleague.idNumber,
      role: 'agent',
      [forged]: 'yes',
    });
    t.is(refused.status, 400, forged);
  }
  const granted = await submit(browser, registered, '/members', {
    id_number: colleague.idNumber,
    role: 'agent',
    client_tax: 'yes',
    until: '2099-12-31',
  });
  t.regex(granted.html, /已授权/);
  t.regex(granted.html, /仅限：电子税务局/, 'the site by its name');
  t.regex(granted.html, /有效期至 2099-12-31/);
  t.deepEqual((await members(code)).sort(), ['agent', 'representative']);

  const revokeAction = [...granted.html.matchAll(/action="([^"]+\/revoke)"/g)].map((m) => m[1] as string);
  t.is(revokeAction.length, 1, 'only the agent can be revoked here, not the representative');
  const revoked = await submit(browser, granted, revokeAction[0] as string);
  t.regex(revoked.html, /已撤销授权/);
  t.deepEqual(await members(code), ['representative']);
});

test('registered by someone else, an entity is a claim that waits; confirmed with the evidence named, it is active', async (t) => {
  const { browser, page } = await signedIn();
  const representative = newCitizen();
  await yitong.createCitizen(representative);
  const code = newCreditCode();
  const claimed = await registerEntity({ browser, page }, code, {
    name: '待确认公司',
    type: 'institution',
    role: 'administrator',
    representative_id_number: representative.idNumber,
  });
  t.regex(claimed.html, /申请已提交，待确认/);
  t.regex(claimed.html, /待确认/);
  t.deepEqual(await members(code), ['administrator'], 'the representative joins once it is proved');
  const [claim] = await entities(code);
  await yitong.server.container.legalPersons.confirmClaim(claim?.id ?? '', {
    actor: 'cli',
    via: 'cli',
    evidence: '营业执照原件、法定代表人身份证原件',
  });
  t.regex((await browser.visit(claimed.url.replace(/\?.*/, ''))).html, /正常/);
  t.deepEqual((await members(code)).sort(), ['administrator', 'representative']);
  const confirmation = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('details')
    .where('subject', '=', claim?.id ?? '')
    .where('action', '=', 'legal_person.claim_confirmed')
    .executeTakeFirstOrThrow();
  t.like(confirmation.details, { proof: 'cli', evidence: '营业执照原件、法定代表人身份证原件' });
});

test('an unproved claim blocks nobody: a squatter’s claim gives no site anything, and the real representative, proved by the register, displaces it', async (t) => {
  const real = await listedRepresentative();
  const squatter = await signedIn();
  const claimed = await registerEntity(squatter, real.code, { name: '冒名公司' });
  t.regex(claimed.html, /申请已提交，待确认/, 'not listed as representative: a claim, not an entity');
  const another = await signedIn();
  t.regex(
    (await registerEntity(another, real.code)).html,
    /申请已提交/,
    'a second claim is not blocked either',
  );
  t.deepEqual(
    (await entities(real.code)).map((e) => e.status),
    ['pending', 'pending'],
  );

  // At a site the claim counts for nothing: it cannot be chosen.
  const site = await discoverSite(yitong.issuer, tax.clientId, tax.clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid legal_person' });
  const login = await squatter.browser.visit(pending.url);
  t.regex(login.html, /冒名公司/);
  t.regex(login.html, /待确认|不能/);
  t.notRegex(login.html, /name="legal_person_id" value=/, 'nothing to choose');

  const proved = await registerEntity(real, real.code);
  t.regex(proved.html, /单位已登记/);
  t.deepEqual(
    (await entities(real.code)).map((e) => e.status),
    ['active'],
  );
  const ended = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('details')
    .where('action', '=', 'legal_person.claim_ended')
    .where(sql<string>`details->>'credit_code'`, '=', real.code)
    .execute();
  t.deepEqual(
    ended.map((row) => row.details.reason),
    ['displaced', 'displaced'],
  );
  t.is((await squatter.browser.visit(`${yitong.issuer}/account/entities/${real.code}`)).status, 404);
});

test('a level-2 person the register does not list is refused and nothing is stored; claims lapse and are limited', async (t) => {
  const impostor = await signedIn(2);
  const listed = registered.at(-1);
  const refused = await registerEntity(impostor, listed?.code ?? '');
  t.is(refused.status, 422);
  t.regex(errorText(refused), /法定代表人不是您/);
  t.deepEqual(await entities(listed?.code ?? ''), []);

  const claimant = await signedIn();
  const codes = [newCreditCode(), newCreditCode(), newCreditCode(), newCreditCode()];
  for (const code of codes.slice(0, 3)) t.is((await registerEntity(claimant, code)).status, 200);
  const fourth = await registerEntity(claimant, codes[3] ?? '');
  t.is(fourth.status, 429);
  t.regex(errorText(fourth), /最多只能有 3 个/);

  // A lapsed claim no longer counts, and someone else's claim on the code then replaces it.
  await yitong.server.container.database.db
    .updateTable('legal_persons')
    .set({ claim_expires_at: new Date(Date.now() - 1000) })
    .where('credit_code', '=', codes[0] ?? '')
    .execute();
  t.is((await registerEntity(claimant, codes[3] ?? '')).status, 200, 'the lapsed one freed a place');
  const other = await signedIn();
  t.is((await registerEntity(other, codes[0] ?? '')).status, 200);
  t.is((await entities(codes[0] ?? '')).length, 1, 'the lapsed claim is gone');
});

test('claims sent at once count as if sent in turn: three open at most, one per code', async (t) => {
  const claimant = await signedIn();
  const codes = Array.from({ length: 8 }, () => newCreditCode());
  const statuses = async (answers: Promise<{ status: number }>[]) =>
    (await Promise.all(answers)).map((answer) => answer.status).sort();
  t.deepEqual(
    await statuses(codes.map((code) => registerEntity(claimant, code))),
    [200, 200, 200, 429, 429, 429, 429, 429],
  );
  const stored = await Promise.all(codes.map(entities));
  t.is(stored.flat().length, 3, 'three claims stored, no more');

  const other = await signedIn();
  const code = newCreditCode();
  t.deepEqual(
    await statuses(Array.from({ length: 6 }, () => registerEntity(other, code))),
    [200, 409, 409, 409, 409, 409],
  );
  t.is((await entities(code)).length, 1, 'one claim on the code');
});

test('nobody removes the legal representative: the server refuses it even when posted without a button', async (t) => {
  const { browser, page, code, sub } = await listedRepresentative();
  const entityPage = await registerEntity({ browser, page }, code);
  const colleague = newCitizen();
  await yitong.createCitizen(colleague);
  const withAdmin = await submit(browser, entityPage, '/members', {
    id_number: colleague.idNumber,
    role: 'administrator',
  });
  const admin = new Browser();
  await signInTo(admin, yitong.issuer, colleague);
  const adminPage = await admin.visit(`${yitong.issuer}/account/entities/${code}`);
  t.notRegex(adminPage.html, new RegExp(`/members/${sub}/revoke`), 'no button for it');
  const forged = await admin.visit(`${yitong.issuer}/account/entities/${code}/members/${sub}/revoke`, {
    form: { _csrf: adminPage.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
  });
  t.is(forged.status, 409);
  t.regex(errorText(forged), /不能撤销法定代表人/);
  t.deepEqual((await members(code)).sort(), ['administrator', 'representative']);
  t.truthy(withAdmin);
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

  const listed = await listedRepresentative();
  const { code } = listed;
  const first = await registerEntity(listed, code);
  t.is(first.status, 200);
  const other = await signedIn();
  // Someone else may only claim it (a proved claim would replace it); its representative again: refused.
  t.regex((await registerEntity(other, code, { name: '后登记公司' })).html, /申请已提交/);
  const duplicate = await registerEntity(listed, code);
  t.is(duplicate.status, 409);
  t.regex(errorText(duplicate), /该统一社会信用代码已登记/);

  const unregistered = await submit(listed.browser, first, '/members', {
    id_number: newCitizen().idNumber,
    role: 'agent',
  });
  t.is(unregistered.status, 404);
  t.regex(unregistered.html, /尚未注册一通账号/);
  // The entity's representative, and the one the other person's claim names: nothing else.
  t.deepEqual(await members(code), ['representative', 'representative']);
});

test('a citizen who is not a member gets 404 on an entity’s pages, an agent 403 on changes; nothing changes', async (t) => {
  const owner = await listedRepresentative();
  const { code } = owner;
  const page = await registerEntity(owner, code);
  const representativeId = page.html.match(/\/members\/([\w-]+)\/revoke/)?.[1];
  t.is(representativeId, undefined, 'no revoke button for the representative');

  const stranger = await signedIn();
  t.is((await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}`)).status, 404);
  const grant = await stranger.browser.visit(`${yitong.issuer}/account/entities/${code}/members`, {
    form: {
      _csrf: stranger.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      id_number: stranger.person.idNumber,
      role: 'administrator',
    },
  });
  t.is(grant.status, 404, 'not a member: the entity is not theirs to see');
  const revoke = await stranger.browser.visit(
    `${yitong.issuer}/account/entities/${code}/members/${owner.sub}/revoke`,
    {
      form: { _csrf: stranger.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
    },
  );
  t.is(revoke.status, 404);
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
  const { browser, page, code, registeredName } = await listedRepresentative();
  const registered = await registerEntity({ browser, page }, code);
  const colleague = newCitizen();
  const colleagueSub = await yitong.createCitizen(colleague);
  await submit(browser, registered, '/members', {
    id_number: colleague.idNumber,
    role: 'agent',
    client_tax: 'yes',
  });

  const site = await discoverSite(yitong.issuer, tax.clientId, tax.clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid legal_person' });
  const them = new Browser();
  const login = await them.visit(pending.url);
  const choose = await submit(them, login, '/login', {
    id_number: colleague.idNumber,
    password: colleague.password,
  });
  t.regex(choose.html, new RegExp(registeredName));
  const consent = await submit(them, choose, '/entity', {
    legal_person_id: choose.html.match(/name="legal_person_id" value="([^"]+)"/)?.[1] ?? '',
  });
  t.regex(consent.html, /您代表的单位/, 'the consent page says what is released');
  const back = await submit(them, consent, '/consent', {}, REDIRECT_URI);
  const claims = (await exchangeCode(site, back.url, pending)).claims();
  t.is(claims?.sub, colleagueSub);
  t.like(claims?.legal_person, {
    credit_code: code,
    name: registeredName,
    role: 'agent',
    status: 'active',
  });

  const entityPage = await browser.visit(`${yitong.issuer}/account/entities/${code}`);
  t.regex(entityPage.html, /电子税务局/, 'the entity page lists the site its people used');
});

test('a claim naming someone as representative does not make them a member, lets nobody be authorised, and cannot block them', async (t) => {
  const victim = await signedIn(1);
  const attacker = await signedIn();
  const code = newCreditCode();
  const claimed = await registerEntity(attacker, code, {
    role: 'administrator',
    representative_id_number: victim.person.idNumber,
  });
  t.regex(claimed.html, /申请已提交/);
  t.deepEqual(await members(code), ['administrator'], 'the named representative is not made a member');
  const accomplice = newCitizen();
  await yitong.createCitizen(accomplice);
  const added = await attacker.browser.visit(`${yitong.issuer}/account/entities/${code}/members`, {
    form: {
      _csrf: attacker.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      id_number: accomplice.idNumber,
      role: 'administrator',
    },
  });
  t.is(added.status, 403);
  t.regex(errorText(added) || added.html, /尚未确认/);
  t.deepEqual(await members(code), ['administrator']);
  // The victim's own claim is not refused because another claim names them.
  t.regex((await registerEntity(victim, code)).html, /申请已提交/);

  // Confirmed by someone who saw the evidence: the named representative becomes a member then.
  const [claim] = await yitong.server.container.database.db
    .selectFrom('legal_persons')
    .innerJoin('memberships', 'memberships.legal_person_id', 'legal_persons.id')
    .select('legal_persons.id')
    .where('legal_persons.credit_code', '=', code)
    .where('memberships.person_id', '=', attacker.sub)
    .execute();
  await yitong.server.container.legalPersons.confirmClaim(claim?.id ?? '', {
    actor: 'cli',
    via: 'cli',
    evidence: '授权委托书、营业执照原件',
  });
  t.deepEqual((await members(code)).sort(), ['administrator', 'representative']);
  t.deepEqual(
    (await entities(code)).map((e) => e.status),
    ['active'],
    'the victim’s own claim ended with the confirmation',
  );
});

test('nobody confirms their own claim; two confirmations on one code at once: one wins, the other is told, never a 500', async (t) => {
  const claimant = await signedIn();
  const code = newCreditCode();
  await registerEntity(claimant, code);
  const [own] = await entities(code);
  await t.throwsAsync(
    yitong.server.container.legalPersons.confirmClaim(own?.id ?? '', {
      actor: claimant.sub,
      via: 'admin',
      evidence: '我自己的材料',
    }),
    { message: 'legal_person.own_claim' },
  );
  const other = await signedIn();
  await registerEntity(other, code);
  const claims = await entities(code);
  t.is(claims.length, 2);
  const results = await Promise.allSettled(
    claims.map((claim) =>
      yitong.server.container.legalPersons.confirmClaim(claim.id, {
        actor: 'cli',
        via: 'cli',
        evidence: '营业执照原件',
      }),
    ),
  );
  t.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  // The loser's claim is either still there, no longer pending, or already removed as displaced
  // (when its transaction began after the winner's committed).
  t.true(
    ['legal_person.not_pending', 'legal_person.no_claim'].includes(refused.reason.code),
    refused.reason.code,
  );
});

test('an entity registered before claims had to be proved is replaced by its proved representative', async (t) => {
  const real = await listedRepresentative();
  // Registered earlier, at once, by someone who was not its representative.
  const impostor = newCitizen();
  await yitong.createCitizen(impostor);
  await yitong.server.container.legalPersons.createByOperator({
    creditCode: real.code,
    name: '冒名登记公司',
    representativeIdNumber: impostor.idNumber,
  });
  const proved = await registerEntity(real, real.code);
  t.regex(proved.html, /单位已登记/);
  t.deepEqual(
    (await entities(real.code)).map((e) => e.status),
    ['active'],
  );
  t.deepEqual(await members(real.code), ['representative']);
  const replaced = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('details')
    .where('action', '=', 'legal_person.replaced')
    .where(sql<string>`details->>'credit_code'`, '=', real.code)
    .execute();
  t.is(replaced.length, 1);
  // The same representative again: nothing to prove, refused.
  t.is((await registerEntity(real, real.code)).status, 409);
});
