import test from 'ava';
import { addressKey } from '../../src/auth/rate-limit.ts';
import type { Backend } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import { currentStep, totpCode } from '../helpers/totp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

test('addresses are counted as IPv4, unwrapped from IPv4-mapped IPv6, or by IPv6 /64', (t) => {
  t.is(addressKey('203.0.113.9'), '203.0.113.9');
  t.is(addressKey('::ffff:203.0.113.9'), '203.0.113.9');
  t.is(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.is(addressKey('::1'), '0:0:0:0::/64');
});

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  let yitong: Yitong;
  test.before(async () => {
    yitong = await startYitong(backend);
  });
  test.after.always(() => yitong?.stop());

  const accounts = () => yitong.server.container.accounts;

  test(`${backend}: five wrong passwords from one address stop that address for 15 minutes, not the citizen elsewhere`, async (t) => {
    const person = newCitizen();
    await yitong.createCitizen(person);
    for (let i = 0; i < 5; i++) {
      await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong password', '10.0.0.1'), {
        message: 'account.credentials',
      });
    }
    const locked = await t.throwsAsync(accounts().authenticate(person.idNumber, person.password, '10.0.0.1'));
    t.like(locked, { message: 'rate.account', status: 429, params: { minutes: 15 } });
    t.is((await accounts().authenticate(person.idNumber, person.password, '10.0.0.2')).name, person.name);
  });

  test(`${backend}: concurrent guesses cannot outrun the limit: at most five reach the password check`, async (t) => {
    const person = newCitizen();
    await yitong.createCitizen(person);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        accounts().authenticate(person.idNumber, 'wrong password', '10.3.0.1'),
      ),
    );
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'));
    t.is(reasons.filter((r) => r === 'account.credentials').length, 5);
    t.is(reasons.filter((r) => r === 'rate.account').length, 15);
  });

  test(`${backend}: thirty guesses from seven addresses cannot lock the owner out: past the limit a network that tried waits, fresh ones share ten tries an hour, a known browser is not held back`, async (t) => {
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    // The attack of the finding: 31 wrong passwords from 7 addresses (5 each, the per-address cap).
    for (let i = 0; i < 31; i++)
      await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', `10.4.${i % 7}.1`), {
        message: i < 30 ? 'account.credentials' : 'rate.account',
      });
    // The owner, right password, own address: in, the first time.
    t.is((await accounts().authenticate(person.idNumber, person.password, '10.4.99.1')).name, person.name);
    // Under attack, a fresh network gets one try: a wrong one, then even the right one waits there…
    await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', '10.4.100.1'), {
      message: 'account.credentials',
    });
    const waits = await t.throwsAsync(
      accounts().authenticate(person.idNumber, person.password, '10.4.100.1'),
    );
    t.like(waits, { message: 'rate.account', status: 429 });
    // …unless the browser signed in to this account before (its device cookie, its own tag).
    const owner = await accounts().findPerson(sub);
    if (!owner) return t.fail('no person');
    const known = [accounts().deviceTag(owner)];
    t.not(accounts().deviceTag(owner), known[0], 'every browser gets a tag of its own');
    t.is(
      (await accounts().authenticate(person.idNumber, person.password, '10.4.100.1', known)).name,
      person.name,
    );
    const other = await accounts().findPerson(await yitong.createCitizen(newCitizen()));
    if (!other) return t.fail('no person');
    await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', '10.4.101.1'));
    for (const [tag, why] of [
      [accounts().deviceTag(other), 'another account’s tag does not count'],
      [`${known[0]?.split('~')[0]}~${'A'.repeat(22)}`, 'a forged tag does not count'],
    ] as const)
      await t.throwsAsync(
        accounts().authenticate(person.idNumber, person.password, '10.4.101.1', [tag]),
        { message: 'rate.account' },
        why,
      );
    // Signing out everywhere ends every tag: the browser must prove itself again.
    await yitong.server.container.accountsRepo.signOutEverywhere(sub, {
      actor: sub,
      action: 'account.signed_out',
      subject: sub,
    });
    await t.throwsAsync(accounts().authenticate(person.idNumber, person.password, '10.4.101.1', known), {
      message: 'rate.account',
    });
  });

  test(`${backend}: under attack, a guesser with many networks gets ten tries an hour in all, not one per network`, async (t) => {
    const person = newCitizen();
    await yitong.createCitizen(person);
    for (let i = 0; i < 30; i++)
      await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', `10.5.${i % 7}.1`));
    // 60 /64s of one /48, then 60 different /48s: the /48 gets one try, all others share ten.
    const outcomes = [];
    for (let i = 0; i < 60; i++)
      outcomes.push(
        await accounts()
          .authenticate(person.idNumber, 'wrong', `2001:db8:1:${i.toString(16)}::1`)
          .catch((error: Error) => error.message),
      );
    for (let i = 0; i < 60; i++)
      outcomes.push(
        await accounts()
          .authenticate(person.idNumber, 'wrong', `2001:db8:${(i + 2).toString(16)}::1`)
          .catch((error: Error) => error.message),
      );
    t.is(outcomes.filter((outcome) => outcome === 'account.credentials').length, 10);
  });

  test(`${backend}: five wrong one-time codes from one address stop that address, not the owner elsewhere; thirty an hour stop the account`, async (t) => {
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    const { codes, accounts: service } = yitong.server.container;
    const found = await service.findPerson(sub);
    if (!found) return t.fail('no person');
    const { secret } = await codes.startEnrolment(`lockout-${sub}`, found);
    const step = currentStep();
    await codes.confirmEnrolment(`lockout-${sub}`, sub, totpCode(secret, step), '10.6.0.1');
    const wrong = totpCode(secret, step + 10);
    for (let i = 0; i < 5; i++)
      await t.throwsAsync(codes.verify(sub, wrong, '10.6.0.1'), { message: 'otp.wrong' });
    await t.throwsAsync(codes.verify(sub, wrong, '10.6.0.1'), { message: 'rate.otp' });
    await t.throwsAsync(
      codes.verify(sub, wrong, '10.6.0.2'),
      { message: 'otp.wrong' },
      'the owner elsewhere still may try',
    );
    for (let i = 0; i < 24; i++)
      await t.throwsAsync(codes.verify(sub, wrong, `10.6.${i + 10}.1`), { message: 'otp.wrong' });
    await t.throwsAsync(codes.verify(sub, wrong, '10.6.99.1'), { message: 'rate.otp' });
  });

  test(`${backend}: an address whose passkey assertions fail 50 times in 15 minutes is stopped before any check`, async (t) => {
    const { passkeys } = yitong.server.container;
    const attempt = async (ip: string) => {
      const binding = `lockout-${Math.random()}`;
      await passkeys.authenticationOptions(binding);
      return passkeys.authenticate(binding, { id: 'not-a-passkey', response: {} }, ip);
    };
    for (let i = 0; i < 50; i++) await t.throwsAsync(attempt('10.7.0.1'), { message: 'passkey.unknown' });
    await t.throwsAsync(attempt('10.7.0.1'), { message: 'rate.ip' });
    await t.throwsAsync(
      attempt('10.7.0.2'),
      { message: 'passkey.unknown' },
      'another address is not affected',
    );
  });

  test(`${backend}: a success clears the failures from that address; other accounts are not affected`, async (t) => {
    const person = newCitizen();
    const other = newCitizen();
    await yitong.createCitizen(person);
    await yitong.createCitizen(other);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++)
        await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', '10.1.0.1'));
      t.is((await accounts().authenticate(person.idNumber, person.password, '10.1.0.1')).name, person.name);
    }
    t.truthy(await accounts().authenticate(other.idNumber, other.password, '10.1.0.1'));
  });

  test(`${backend}: one address trying many accounts is stopped after 50 failures; its successes do not count`, async (t) => {
    const ip = '192.0.2.77';
    const person = newCitizen();
    await yitong.createCitizen(person);
    for (let i = 0; i < 10; i++)
      t.truthy(await accounts().authenticate(person.idNumber, person.password, ip));
    for (let i = 0; i < 50; i++) {
      await t.throwsAsync(accounts().authenticate(newCitizen().idNumber, 'guess', ip), {
        message: 'account.credentials',
      });
    }
    await t.throwsAsync(accounts().authenticate(person.idNumber, person.password, ip), {
      message: 'rate.ip',
    });
    t.truthy(
      await accounts().authenticate(person.idNumber, person.password, '192.0.2.78'),
      'another address is not affected',
    );
  });

  test(`${backend}: registration refuses bad input with the field and rule, and writes nothing`, async (t) => {
    const person = newCitizen();
    const register = (change: Record<string, string>) =>
      accounts().register({ ...person, passwordConfirm: person.password, ...change }, '10.2.0.1');
    await t.throwsAsync(register({ idNumber: '123' }), { message: 'id_number.length' });
    await t.throwsAsync(register({ name: '' }), { message: 'name.invalid' });
    await t.throwsAsync(register({ name: '<script>' }), { message: 'name.invalid' });
    await t.throwsAsync(register({ phone: '12345' }), { message: 'phone.invalid' });
    await t.throwsAsync(register({ password: 'short', passwordConfirm: 'short' }), {
      message: 'password.short',
    });
    await t.throwsAsync(register({ password: '12345678', passwordConfirm: '12345678' }), {
      message: 'password.weak',
    });
    await t.throwsAsync(register({ passwordConfirm: 'something else' }), { message: 'password.mismatch' });
    const rows = await yitong.server.container.database.db
      .selectFrom('people')
      .select('id')
      .where('id_number_hmac', '=', yitong.server.container.sealer.index(person.idNumber))
      .execute();
    t.is(rows.length, 0);
  });

  test(`${backend}: the identity number is stored encrypted and indexed by HMAC, never in clear`, async (t) => {
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    const row = await yitong.server.container.database.db
      .selectFrom('people')
      .selectAll()
      .where('id', '=', sub)
      .executeTakeFirstOrThrow();
    t.false(JSON.stringify(row).includes(person.idNumber));
    t.false(row.id_number_enc.toString('latin1').includes(person.idNumber));
    t.is(row.id_number_masked, `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)}`);
    t.is(yitong.server.container.sealer.open(row.id_number_enc), person.idNumber);
    t.regex(row.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
}
