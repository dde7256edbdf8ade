/**
 * Password reset: an administrator sends a single-use link through the notifier (a real HTTP
 * webhook here); the person chooses a new password, which ends every earlier sign-in.
 */
import test from 'ava';
import { enrolTotp, signInTo } from '../helpers/account.ts';
import { deskStaff } from '../helpers/admin.ts';
import { Browser, hiddenField, submit } from '../helpers/browser.ts';

import { newCitizen } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import { startYitong } from '../helpers/yitong.ts';

test('an admin sends a reset link; the person sets a new password once; old sessions and password stop working', async (t) => {
  const webhook = await receiver(t.teardown, '/notify');
  const messages = () =>
    webhook.received.map((message) => ({
      ...JSON.parse(message.body),
      authorization: message.authorization,
    }));
  const yitong = await startYitong('postgres', {
    NOTIFIER_URL: webhook.url,
    NOTIFIER_TOKEN: 'webhook-secret',
  });
  t.teardown(() => yitong.stop());

  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person);
  const typedOnly = newCitizen('440106');
  const typedSub = await yitong.createCitizen(typedOnly);
  await yitong.provePhone(sub, person.phone);
  const session = new Browser();
  await signInTo(session, yitong.issuer, person);

  const admin = newCitizen('440106');
  const adminSub = await yitong.createCitizen(admin);
  await yitong.server.container.admin.addAdmin(admin.idNumber, 'admin', '440100');
  const setup = new Browser();
  await signInTo(setup, yitong.issuer, admin);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);
  const console = new Browser();
  await signInTo(console, yitong.issuer, { ...admin, authenticator }, '/admin');
  // A number typed at registration and never proved may be anyone's: no link goes to it.
  const unproved = await console.visit(`${yitong.issuer}/admin/people/${typedSub}`);
  t.regex(unproved.html, /没有已验证的手机号码/);
  t.notRegex(unproved.html, /reset-password/);
  const forced = await console.visit(`${yitong.issuer}/admin/people/${typedSub}/reset-password`, {
    form: { _csrf: hiddenField(unproved.html, '_csrf') },
  });
  t.is(forced.status, 409);
  t.regex(forced.html, /不能发送重置链接/);
  t.is(messages().length, 0);

  const page = await console.visit(`${yitong.issuer}/admin/people/${sub}`);
  const sent = await submit(console, page, `/${sub}/reset-password`);
  t.regex(sent.html, /重置密码链接已发送/);
  t.is(messages().length, 1);
  t.like(messages()[0], {
    kind: 'password_reset',
    personId: sub,
    phone: person.phone,
    authorization: 'Bearer webhook-secret',
  });
  const link = messages()[0]?.link ?? '';
  t.regex(link, new RegExp(`^${yitong.issuer}/reset/[\\w-]{43}$`));

  const visitor = new Browser();
  const form = await visitor.visit(link);
  t.is(form.status, 200);
  const weak = await submit(visitor, form, '/reset/', { password: '12345678', password_confirm: '12345678' });
  t.is(weak.status, 400);
  const newPassword = 'a brand new passphrase 2026';
  const done = await submit(visitor, weak, '/reset/', {
    password: newPassword,
    password_confirm: newPassword,
  });
  t.regex(done.html, /密码已更新/);
  t.is((await visitor.visit(link)).status, 400, 'used once');

  const ended = await session.visit(`${yitong.issuer}/account`);
  t.regex(ended.html, /name="id_number"/, 'the earlier session no longer counts');
  const old = await submit(session, ended, '/login', {
    id_number: person.idNumber,
    password: person.password,
  });
  t.regex(old.html, /身份证号码或密码不正确/);
  await new Promise((resolve) => setTimeout(resolve, 1100)); // sign-ins in the second of the reset count as before it
  const fresh = await signInTo(new Browser(), yitong.issuer, { ...person, password: newPassword });
  t.is(fresh.status, 200);
  t.regex(fresh.html, /个人中心/);

  const rows = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'action'])
    .where('subject', '=', sub)
    .where('action', 'like', 'password.%')
    .orderBy('seq')
    .execute();
  t.deepEqual(rows, [
    { actor: adminSub, action: 'password.reset_sent' },
    { actor: sub, action: 'password.reset' },
  ]);
  t.false(
    JSON.stringify(
      await yitong.server.container.database.db.selectFrom('audit_events').select('details').execute(),
    ).includes(link.split('/').pop() ?? 'x'),
    'the token is never recorded',
  );
});

test('an unknown or malformed reset link says it has expired', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  for (const token of ['x', 'A'.repeat(43), '../../etc']) {
    const page = await new Browser().visit(`${yitong.issuer}/reset/${token}`);
    t.is(page.status, token === '../../etc' ? 404 : 400, token);
  }
});

test('at a service counter, staff start a reset for the person in front of them: a link for their own phone, audited', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const person = newCitizen('440106');
  const sub = await yitong.createCitizen(person); // no proved number: the counter is the way
  const { sub: clerkSub, browser: desk, page: staffPage } = await deskStaff(yitong);
  t.regex(staffPage.html, /href="\/session\/end">退出登录/, 'a shared counter PC can sign out');
  const found = await submit(desk, staffPage, '/staff/lookup', { id_number: person.idNumber });

  const reset = (fields: Record<string, string>) =>
    desk.visit(`${yitong.issuer}/staff/reset`, {
      form: { _csrf: hiddenField(found.html, '_csrf'), person: sub, ...fields },
    });
  t.is((await reset({})).status, 400, 'the card must be checked first');
  const shown = await reset({ card_checked: 'yes' });

  t.is(shown.status, 200);
  t.regex(shown.html, /<img class="qr" src="data:image\/png;base64,/);
  const link = shown.html.match(/(http:\/\/localhost:\d+\/reset\/[\w-]{43})/)?.[1] ?? '';
  t.truthy(link);

  const phone = new Browser();
  const password = 'counter reset phrase 2026';
  const done = await submit(phone, await phone.visit(link), '/reset/', {
    password,
    password_confirm: password,
  });
  t.regex(done.html, /密码已更新/);
  const row = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'details'])
    .where('action', '=', 'password.reset_started')
    .executeTakeFirstOrThrow();
  t.is(row.actor, clerkSub);
  t.like(row.details, { hall: '天河区政务服务中心' });
});
