/**
 * The account itself: changing the mobile number (a code sent to the new number through the
 * notifier webhook proves it; uniqueness; bad input; wrong and stale codes) and deleting the
 * account (a fresh sign-in, the waiting period, cancelling, the purge and what it keeps).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import * as client from 'openid-client';
import type { Person } from '../../src/accounts/repo.ts';
import { signInTo } from '../helpers/account.ts';
import { Browser, formAction, hiddenField, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { freePort, startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
const closers: Array<() => void> = [];
let notifier: Awaited<ReturnType<typeof receiver>>;
/** What the notifier webhook received, as JSON. */
const messages = () => notifier.received.map((message) => JSON.parse(message.body) as Record<string, string>);
test.before(async () => {
  notifier = await receiver((close) => closers.push(close), '/notify');
  yitong = await startYitong('postgres', { NOTIFIER_URL: notifier.url });
});
test.after.always(async () => {
  await yitong?.stop();
  for (const close of closers) close();
});

async function signedIn(path = '/account') {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, person, path);
  return { person, sub, browser, page };
}

/** Makes the browser's sign-in an hour old. */
async function age(browser: Browser) {
  const session = await yitong.server.container.provider.Session.find(
    browser.cookies.get('_session')?.value ?? '',
  );
  if (!session) throw new Error('no session');
  session.loginTs = Math.floor(Date.now() / 1000) - 3600;
  await session.save(3600);
}

const auditOf = (sub: string, action: string) =>
  yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'details'])
    .where('subject', '=', sub)
    .where('action', '=', action)
    .execute();

test('a new mobile number is proved by a code sent to it, then replaces the old one', async (t) => {
  const { person, sub, browser, page } = await signedIn();
  t.regex(page.html, /未验证/, 'the overview says the typed number is not verified');
  const form = await browser.visit(`${yitong.issuer}/account/phone`);
  t.regex(form.html, /输入新的手机号码/);

  for (const phone of ['1391234', '2391234567８', ' ']) {
    const refused = await submit(browser, form, '/account/phone', { phone });
    t.is(refused.status, 400, phone);
    t.regex(refused.html, /请输入 11 位中国大陆手机号码/);
  }
  t.false(
    messages().some((message) => message.personId === sub),
    'no code sent for a refused number',
  );

  const newPhone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const codeForm = await submit(browser, form, '/account/phone', { phone: newPhone });
  t.regex(
    codeForm.html,
    new RegExp(`验证码已发送到 ${newPhone.slice(0, 3)}\\*\\*\\*\\*${newPhone.slice(-4)}`),
  );
  const sent = messages().find((message) => message.phone === newPhone);
  t.like(sent, { kind: 'phone_code', personId: sub });
  t.regex(sent?.code ?? '', /^\d{6}$/);
  const wrongCode = sent?.code === '000000' ? '111111' : '000000';
  const wrong = await submit(browser, codeForm, '/account/phone/confirm', { code: wrongCode });
  t.is(wrong.status, 400);
  t.regex(wrong.html, /验证码不正确/);
  t.is((await yitong.server.container.accounts.findPerson(sub))?.phone, person.phone, 'unchanged so far');

  // Another person's session cannot use this code.
  const intruder = await signedIn('/account/phone');
  const stolen = await submit(intruder.browser, intruder.page, '/account/phone', { phone: newPhone });
  t.regex(stolen.html, /输入新的手机号码|验证码已发送/);
  const elsewhere = await intruder.browser.visit(`${yitong.issuer}/account/phone/confirm`, {
    form: {
      _csrf: intruder.page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
      code: sent?.code ?? '',
    },
  });
  t.true(elsewhere.status >= 400);
  t.is((await yitong.server.container.accounts.findPerson(intruder.sub))?.phone, intruder.person.phone);

  const done = await submit(browser, wrong, '/account/phone/confirm', { code: sent?.code ?? '' });
  t.regex(done.html, /手机号码已更换/);
  t.regex(done.html, new RegExp(`${newPhone.slice(0, 3)}\\*\\*\\*\\*${newPhone.slice(-4)} · 已验证`));
  const changed = await yitong.server.container.accounts.findPerson(sub);
  t.is(changed?.phone, newPhone);
  t.truthy(changed?.phoneVerifiedAt);
  const masked = `${newPhone.slice(0, 3)}****${newPhone.slice(-4)}`;
  t.deepEqual(await auditOf(sub, 'phone.changed'), [{ actor: sub, details: { to: masked } }]);
  t.false(
    messages().some((message) => message.kind === 'phone_changed' && message.personId === sub),
    'a number only typed at registration is not told: it may be anyone’s',
  );
  const same = await submit(browser, form, '/account/phone', { phone: newPhone });
  t.is(same.status, 400);
  t.regex(same.html, /这已经是您的手机号码/);
  // A site asking for the phone scope now learns the number is verified.
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '不动产登记',
    department: '自然资源局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid phone',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid phone' });
  const tokens = await exchangeCode(
    site,
    (await walkAuthorization(browser, pending.url)).callbackUrl,
    pending,
  );
  t.like(await client.fetchUserInfo(site.config, tokens.access_token, sub), {
    phone_number: `+86${newPhone}`,
    phone_number_verified: true,
  });

  const again = await browser.visit(`${yitong.issuer}/account/phone/confirm`, {
    form: { _csrf: done.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', code: sent?.code ?? '' },
  });
  t.is(again.status, 400, 'a code works once');
  t.regex(again.html, /验证码已失效/);
});

test('five wrong codes end the code; numbers tried are limited; a stale sign-in must sign in again first', async (t) => {
  const { browser } = await signedIn();
  const form = await browser.visit(`${yitong.issuer}/account/phone`);
  const newPhone = `136${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  let page = await submit(browser, form, '/account/phone', { phone: newPhone });
  const code = messages().find((message) => message.phone === newPhone)?.code ?? '';
  const wrongCode = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++)
    page = await submit(browser, page, '/account/phone/confirm', { code: wrongCode });
  const locked = await submit(browser, page, '/account/phone/confirm', { code: wrongCode });
  t.is(locked.status, 429);
  t.regex(locked.html, /验证码错误次数过多，这个验证码已失效。请在 \d+ 分钟后重新发送验证码/);
  t.notRegex(locked.html, /登录失败/, 'not the sign-in lockout');
  const late = await browser.visit(`${yitong.issuer}/account/phone/confirm`, {
    form: { _csrf: form.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', code },
  });
  t.is(late.status, 400, 'even the right code no longer works');

  // Codes sent are limited too: 5 an hour for an account.
  for (let i = 0; i < 4; i++) {
    const tried = await submit(browser, form, '/account/phone', { phone: newCitizen().phone });
    t.regex(tried.html, /验证码已发送到/);
  }
  const sixth = await submit(browser, form, '/account/phone', { phone: newCitizen().phone });
  t.is(sixth.status, 429);
  t.regex(sixth.html, /这个账号发送验证码过于频繁，请在 \d+ 分钟后再试/);

  await age(browser);
  const stale = await browser.request(`${yitong.issuer}/account/phone`);
  t.is(stale.status, 302, 'a stale session signs in again first');
  const location = new URL(stale.headers.get('location') ?? '');
  t.is(location.searchParams.get('prompt'), 'login');
  const post = await browser.visit(`${yitong.issuer}/account/phone`, {
    form: { _csrf: form.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '', phone: newPhone },
  });
  t.is(post.status, 403);
  t.regex(post.html, /请先重新验证身份/);
});

test('a code typed full-width or with a space is read; one that is not six digits is named and not counted as a guess', async (t) => {
  const { sub, browser } = await signedIn();
  const form = await browser.visit(`${yitong.issuer}/account/phone`);
  const newPhone = `135${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  let page = await submit(browser, form, '/account/phone', { phone: newPhone });
  const code = messages().find((message) => message.phone === newPhone)?.code ?? '';
  // More slips than the five wrong codes allowed: none of them is a guess.
  for (const slip of ['12', '１２３', 'abcdef', '1234567', '12345', '']) {
    page = await submit(browser, page, '/account/phone/confirm', { code: slip });
    t.is(page.status, 400, slip);
    t.regex(page.html, /id="code-error" role="alert">请输入短信中的 6 位数字验证码/, slip);
  }
  const wrongCode = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 4; i++)
    page = await submit(browser, page, '/account/phone/confirm', { code: wrongCode });
  t.regex(page.html, /验证码不正确/);
  const fullWidth = (code: string) =>
    [...code].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
  const typed = `${fullWidth(code.slice(0, 3))} ${fullWidth(code.slice(3))}`;
  const done = await submit(browser, page, '/account/phone/confirm', { code: typed });
  t.is(done.status, 200, done.html.match(/role="alert">([^<]+)/)?.[1]);
  t.is((await yitong.server.container.accounts.findPerson(sub))?.phone, newPhone);
});

test('deleting the account: a waiting period, cancellable; then the purge deletes it and keeps only the fingerprint', async (t) => {
  const { person, sub, browser } = await signedIn();
  const page = await browser.visit(`${yitong.issuer}/account/delete`);
  t.regex(page.html, /15 天的冷静期/);
  t.regex(page.html, /保留的内容/);
  const unconfirmed = await submit(browser, page, '/account/delete');
  t.is(unconfirmed.status, 400);
  t.regex(unconfirmed.html, /请勾选确认/);
  t.falsy((await yitong.server.container.accounts.findPerson(sub))?.deletionDueAt);
  const noCsrf = await browser.visit(`${yitong.issuer}/account/delete`, { form: { confirm: 'yes' } });
  t.is(noCsrf.status, 403);

  const scheduled = await submit(browser, page, '/account/delete', { confirm: 'yes' });
  const due = (await yitong.server.container.accounts.findPerson(sub))?.deletionDueAt;
  t.truthy(due);
  t.true(Math.abs((due?.getTime() ?? 0) - Date.now() - 15 * 86_400_000) < 60_000);
  t.regex(scheduled.html, /您的账号将于 \d{4}-\d\d-\d\d 注销/);
  t.false(
    messages().some((message) => message.kind === 'deletion_requested' && message.personId === sub),
    'a typed number is not told',
  );
  t.regex((await browser.visit(`${yitong.issuer}/account`)).html, /您的账号将于/);
  const cancelled = await submit(browser, scheduled, '/account/delete/cancel');
  t.regex(cancelled.html, /已撤销注销/);
  t.is((await yitong.server.container.accounts.findPerson(sub))?.deletionDueAt, null);

  // Not due yet: the purge leaves it; once due, it goes.
  const again = await browser.visit(`${yitong.issuer}/account/delete`);
  await submit(browser, again, '/account/delete', { confirm: 'yes' });
  const { deletion, accounts, database } = yitong.server.container;
  t.like(await deletion.purgeDue(new Date()), { deleted: 0 });
  const result = await deletion.purgeDue(new Date(Date.now() + 16 * 86_400_000));
  t.true(result.deleted >= 1);
  t.is(await accounts.findPerson(sub), undefined);
  t.is(
    await yitong.server.container.provider.Session.find(browser.cookies.get('_session')?.value ?? ''),
    undefined,
    "the provider's session is destroyed",
  );
  t.regex((await browser.visit(`${yitong.issuer}/account`)).html, /name="id_number"/, 'signed out');
  const kept = await database.db
    .selectFrom('deleted_accounts')
    .selectAll()
    .where('person_id', '=', sub)
    .executeTakeFirstOrThrow();
  t.true(kept.retain_until.getFullYear() - new Date().getFullYear() >= 3);
  t.is(Object.keys(kept).sort().join(), 'deleted_at,id_number_hmac,person_id,retain_until');
  t.deepEqual(
    (await auditOf(sub, 'account.deleted')).map((row) => row.actor),
    ['system'],
  );
  // The number can register again, as a new account.
  t.not(await yitong.createCitizen({ ...person, phone: undefined }), sub);
});

test('the only manager of an organisation cannot delete the account until another is authorised', async (t) => {
  const { sub, browser } = await signedIn();
  await yitong.server.container.database.db
    .insertInto('legal_persons')
    .values({
      id: `lp-${sub}`,
      credit_code: `91440106${sub
        .slice(0, 9)
        .toUpperCase()
        .replace(/[^0-9A-H]/g, '1')}X`.slice(0, 18),
      name: '测试科技有限公司',
      type: 'enterprise',
      status: 'active',
      representative_hmac: Buffer.alloc(32),
      representative_masked: '330106********1234',
    })
    .execute();
  await yitong.server.container.database.db
    .insertInto('memberships')
    .values({ legal_person_id: `lp-${sub}`, person_id: sub, role: 'representative', granted_by: sub })
    .execute();
  const page = await browser.visit(`${yitong.issuer}/account/delete`);
  const refused = await submit(browser, page, '/account/delete', { confirm: 'yes' });
  t.is(refused.status, 409);
  t.regex(refused.html, /您是以下单位唯一的管理人：测试科技有限公司/);
  t.is((await yitong.server.container.accounts.findPerson(sub))?.deletionDueAt, null);
});

test('a number is called taken only once its code proved it; an account that only typed it loses it', async (t) => {
  const { accounts, database } = yitong.server.container;
  const squatter = newCitizen();
  const squatterSub = await yitong.createCitizen(squatter);
  const number = squatter.phone;
  const proveAs = async (asker: Awaited<ReturnType<typeof signedIn>>) => {
    const form = await submit(asker.browser, asker.page, '/account/phone', { phone: number });
    t.regex(form.html, /验证码已发送到/, 'asking never tells whether the number is registered');
    const code = messages().findLast((message) => message.phone === number)?.code ?? '';
    return submit(asker.browser, form, '/account/phone/confirm', { code });
  };

  const owner = await signedIn('/account/phone');
  t.regex((await proveAs(owner)).html, /手机号码已更换/);
  t.like(await accounts.findPerson(owner.sub), { phone: number });
  t.is((await accounts.findPerson(squatterSub))?.phone, null, 'typed, never proved: released');
  t.deepEqual(await auditOf(squatterSub, 'phone.released'), [
    { actor: 'system', details: { reason: 'proved_by_another_account' } },
  ]);

  const latecomer = await signedIn('/account/phone');
  const refused = await proveAs(latecomer);
  t.is(refused.status, 409);
  t.regex(refused.html, /这个手机号码已被另一个账号使用/);
  t.is((await accounts.findPerson(latecomer.sub))?.phone, latecomer.person.phone);

  // Registering with a proved number is not refused either (nor does it tell): the number stays
  // unproved there, and no site is given it as that account's number.
  const registrant = newCitizen();
  const registered = await yitong.createCitizen({ ...registrant, phone: number });
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '公积金服务',
    department: '住房公积金管理中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid phone',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const pending = await authorizationRequest(site, { scope: 'openid phone' });
  const walk = await walkAuthorization(new Browser(), pending.url, registrant);
  t.regex(
    walk.consentHtml ?? '',
    /手机号码：您的号码尚未验证，不会提供给该网站/,
    'the consent page does not promise it',
  );
  const tokens = await exchangeCode(site, walk.callbackUrl, pending);
  t.deepEqual(await client.fetchUserInfo(site.config, tokens.access_token, registered), { sub: registered });
  const rows = await database.db
    .selectFrom('people')
    .select(['id', 'phone_verified_at'])
    .where('phone', '=', number)
    .orderBy('phone_verified_at')
    .execute();
  t.deepEqual(
    rows.map((row) => [row.id, Boolean(row.phone_verified_at)]),
    [
      [owner.sub, true],
      [registered, false],
    ],
  );
});

test('codes to one number are limited: 3 an hour from one account, 10 from all self-registered ones together, and made-up accounts cannot starve a verified owner', async (t) => {
  const { accounts, phones } = yitong.server.container;
  const number = newCitizen().phone;
  const ask = (person: Person, uid: string) =>
    phones.start(person, uid, number).then(
      () => 'sent',
      (error: Error) => error.message,
    );
  const results = [];
  for (let i = 0; i < 5; i++) {
    const person = await accounts.findPerson(await yitong.createCitizen(newCitizen()));
    if (!person) return t.fail('no person');
    for (let j = 0; j < (i === 0 ? 4 : 2); j++)
      results.push(await ask(person, `flood-${i}-${j}-${person.id}`));
  }
  t.deepEqual(results, [
    ...['sent', 'sent', 'sent', 'rate.phone'], // one account: 3
    ...['sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'sent', 'rate.phone'], // all: 10
  ]);
  t.is(messages().filter((message) => message.phone === number).length, 10);
  // The owner, whose identity an authority confirmed (level 2), still gets a code.
  const ownerId = await yitong.createCitizen(newCitizen());
  await yitong.server.container.database.db
    .updateTable('people')
    .set({ identity_level: 2 })
    .where('id', '=', ownerId)
    .execute();
  const owner = await accounts.findPerson(ownerId);
  if (!owner) return t.fail('no owner');
  t.is(await ask(owner, `owner-${ownerId}`), 'sent');
  const counters = await yitong.server.container.redis?.keys('*sms:*');
  t.false(
    counters?.some((key) => key.includes(number)),
    'the counters never hold the number itself',
  );
});

// Serial (ava runs serial tests first): the deletion test's purge would delete this person while a request waits.
test.serial(
  'notices to a proved number have a budget of their own: codes asked for cannot silence them, repeats cannot flood',
  async (t) => {
    const { accounts, phones, deletion } = yitong.server.container;
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    await yitong.provePhone(sub, person.phone);
    const proved = await accounts.findPerson(sub);
    if (!proved) return t.fail('no person');

    // Four accounts use up the number's codes for the hour…
    const asked = [];
    for (let i = 0; i < 4; i++) {
      const other = await accounts.findPerson(await yitong.createCitizen(newCitizen()));
      if (!other) return t.fail('no person');
      for (let j = 0; j < 3; j++)
        asked.push(
          await phones.start(other, `silence-${i}-${j}-${sub}`, person.phone).then(
            () => 'sent',
            (error: Error) => error.message,
          ),
        );
    }
    t.is(asked.filter((result) => result === 'sent').length, 10);
    t.is(asked.at(-1), 'rate.phone');

    // …and the notice of a deletion request still reaches it; asking and cancelling again and again does not flood it.
    for (let i = 0; i < 12; i++) {
      await deletion.request(proved, '10.9.0.2');
      await deletion.cancel({ ...proved, deletionDueAt: new Date() }, '10.9.0.2');
    }
    const told = messages().filter((message) => message.personId === sub);
    t.is(told.length, 10);
    t.like(told[0], { kind: 'deletion_requested', phone: person.phone });
  },
);

test('the old number is told of the change, with the new one masked', async (t) => {
  const { accounts, phones } = yitong.server.container;
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  await yitong.provePhone(sub, person.phone);
  const proved = await accounts.findPerson(sub);
  if (!proved) return t.fail('no person');
  const newPhone = newCitizen().phone;
  await phones.start(proved, `told-${sub}`, newPhone);
  const code = messages().findLast((message) => message.phone === newPhone)?.code ?? '';
  await phones.confirm(proved, `told-${sub}`, code, '10.9.0.3');
  t.deepEqual(
    messages().filter((message) => message.kind === 'phone_changed' && message.personId === sub),
    [
      {
        kind: 'phone_changed',
        personId: sub,
        phone: person.phone,
        to: `${newPhone.slice(0, 3)}****${newPhone.slice(-4)}`,
      },
    ],
  );
});

test('two accounts proving the number they both typed at once: one gets it, the other is told it is taken', async (t) => {
  const { accountsRepo, accounts } = yitong.server.container;
  for (let round = 0; round < 5; round++) {
    const number = newCitizen().phone;
    const subs = await Promise.all(
      [0, 1].map(() => yitong.createCitizen({ ...newCitizen(), phone: number })),
    );
    const results = await Promise.allSettled(
      subs.map((sub) =>
        accountsRepo.setPhone(sub, number, { actor: sub, action: 'phone.changed', subject: sub }),
      ),
    );
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? 'proved' : (r.reason as Error).message));
    t.deepEqual([...outcomes].sort(), ['phone.taken', 'proved'], `round ${round}`);
    const holders = await Promise.all(subs.map(async (sub) => (await accounts.findPerson(sub))?.phone));
    t.deepEqual(holders.filter(Boolean), [number]);
  }
});

test('parallel guesses at a phone code are counted before they are compared: at most five are checked', async (t) => {
  const { person, sub } = await signedIn();
  const { phones, accounts } = yitong.server.container;
  const found = await accounts.findPerson(sub);
  if (!found) return t.fail('no person');
  const newPhone = `135${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  await phones.start(found, `race-${sub}`, newPhone);
  const code = messages().find((message) => message.phone === newPhone)?.code ?? '';
  const wrongCode = code === '000000' ? '111111' : '000000';
  const guesses = [...Array.from({ length: 29 }, () => wrongCode), code];
  const results = await Promise.allSettled(
    guesses.map((guess) => phones.confirm(found, `race-${sub}`, guess, '10.9.0.1')),
  );
  const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'changed'));
  t.is(reasons.filter((reason) => reason !== 'rate.phone_code').length, 5, reasons.join());
  if (!reasons.includes('changed')) t.is((await accounts.findPerson(sub))?.phone, person.phone);
});

test('the purge re-checks under lock: an account whose deletion was cancelled is kept', async (t) => {
  const { sub } = await signedIn();
  const { accountsRepo, accounts, database } = yitong.server.container;
  const now = new Date();
  await accountsRepo.setDeletionDue(sub, new Date(now.getTime() - 1000), {
    actor: sub,
    action: 'account.deletion_requested',
    subject: sub,
  });
  await accountsRepo.setDeletionDue(sub, null, {
    actor: sub,
    action: 'account.deletion_cancelled',
    subject: sub,
  });
  const audit = { actor: 'system', action: 'account.deleted', subject: sub };
  t.false(await accountsRepo.purge(sub, now, new Date(now.getTime() + 1000), audit));
  t.truthy(await accounts.findPerson(sub));
  const rows = await database.db
    .selectFrom('audit_events')
    .select('action')
    .where('subject', '=', sub)
    .where('action', '=', 'account.deleted')
    .execute();
  t.deepEqual(rows, []);
});

test('proving the number typed at registration says it is proved, not changed', async (t) => {
  const asker = await signedIn('/account/phone');
  const form = await submit(asker.browser, asker.page, '/account/phone', { phone: asker.person.phone });
  const code = messages().findLast((message) => message.phone === asker.person.phone)?.code ?? '';
  const done = await submit(asker.browser, form, '/account/phone/confirm', { code });
  t.regex(done.html, /手机号码已验证/);
  t.notRegex(done.html, /已更换/);
});

test('the message service down: the code request says so with a 503 and Retry-After, and the number stays as it was', async (t) => {
  const down = await startYitong('postgres', { NOTIFIER_URL: `http://127.0.0.1:${await freePort()}/notify` });
  t.teardown(() => down.stop());
  const person = newCitizen();
  const sub = await down.createCitizen(person);
  const browser = new Browser();
  const form = await signInTo(browser, down.issuer, person, '/account/phone');
  const newPhone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const answer = await browser.request(new URL(formAction(form.html, '/account/phone'), down.issuer).href, {
    form: { _csrf: hiddenField(form.html, '_csrf'), phone: newPhone },
  });
  t.is(answer.status, 503);
  t.is(answer.headers.get('retry-after'), '5', 'when to try again');
  t.regex(await answer.text(), /消息服务暂时无法发送/);
  t.is((await down.server.container.accountsRepo.findPersonById(sub))?.phone, person.phone);

  // Nothing was sent, so nothing waits for a code and nothing is charged to the account.
  const after = await browser.visit(`${down.issuer}/account/phone`);
  t.notRegex(after.html, /验证码已发送/);
  t.regex(after.html, /name="phone"/, 'the number form again');
  for (let i = 0; i < 6; i++) {
    const again = await browser.request(new URL(formAction(after.html, '/account/phone'), down.issuer).href, {
      form: { _csrf: hiddenField(after.html, '_csrf'), phone: newPhone },
    });
    t.is(again.status, 503, 'the message service, not a limit the outage used up');
  }
});

test('a number the messaging service refuses (4xx): said at once, charged like a code sent, and no outage for recovery', async (t) => {
  const refusing = createServer((request, response) => {
    request.resume();
    response.statusCode = 400;
    response.end();
  }).listen(0, '127.0.0.1');
  t.teardown(() => refusing.close());
  await once(refusing, 'listening');
  const port = (refusing.address() as AddressInfo).port;
  const picky = await startYitong('postgres', { NOTIFIER_URL: `http://127.0.0.1:${port}/notify` });
  t.teardown(() => picky.stop());
  const person = newCitizen();
  await picky.createCitizen(person);
  const browser = new Browser();
  const form = await signInTo(browser, picky.issuer, person, '/account/phone');
  const ask = () =>
    browser.request(new URL(formAction(form.html, '/account/phone'), picky.issuer).href, {
      form: { _csrf: hiddenField(form.html, '_csrf'), phone: '13000000000' },
    });
  const refused = await ask();
  t.is(refused.status, 400);
  t.regex(await refused.text(), /这个号码可能无法接收短信/);
  // Three a number an hour, as for codes sent: the fourth is refused by the limit.
  for (let i = 0; i < 2; i++) t.is((await ask()).status, 400);
  t.is((await ask()).status, 429);
  // The service answered: recovery is not told it is down.
  const recover = new Browser();
  const asked = await submit(recover, await recover.visit(`${picky.issuer}/recover`), '/recover', {
    id_number: person.idNumber,
    phone: person.phone,
  });
  t.is(asked.status, 200);
});

test('a number the account has but never proved: My page offers to verify it, with the number filled in', async (t) => {
  const { person, sub, browser, page } = await signedIn();
  t.truthy(person.phone, 'registered with a number, not yet proved');
  t.regex(page.html, /href="\/account\/phone\?verify=1">验证手机号码/);
  const form = await browser.visit(`${yitong.issuer}/account/phone?verify=1`);
  t.regex(form.html, new RegExp(`name="phone"[^>]*value="${person.phone}"`));
  const codeForm = await submit(browser, form, '/account/phone', { phone: person.phone });
  const sent = messages().find((message) => message.phone === person.phone && message.kind === 'phone_code');
  const done = await submit(browser, codeForm, '/account/phone/confirm', { code: sent?.code ?? '' });
  t.is(done.status, 200);
  t.truthy((await yitong.server.container.accounts.findPerson(sub))?.phoneVerifiedAt);
  t.notRegex((await browser.visit(`${yitong.issuer}/account`)).html, /\?verify=1/, 'nothing left to verify');
});
