import test from 'ava';
import type { Backend } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  let yitong: Yitong;
  test.before(async () => {
    yitong = await startYitong(backend);
  });
  test.after.always(() => yitong?.stop());

  const accounts = () => yitong.server.container.accounts;

  test(`${backend}: five wrong passwords lock the account for the rest of the 15-minute window, even with the right one`, async (t) => {
    const person = newCitizen();
    await yitong.createCitizen(person);
    for (let i = 0; i < 5; i++) {
      await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong password', `10.0.${i}.1`), {
        message: 'account.credentials',
      });
    }
    const locked = await t.throwsAsync(accounts().authenticate(person.idNumber, person.password, '10.0.9.1'));
    t.is(locked?.message, 'rate.account');
    t.like(locked, { status: 429, params: { minutes: 15 } });
  });

  test(`${backend}: a success resets the account's failures; other accounts are not affected`, async (t) => {
    const person = newCitizen();
    const other = newCitizen();
    await yitong.createCitizen(person);
    await yitong.createCitizen(other);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++)
        await t.throwsAsync(accounts().authenticate(person.idNumber, 'wrong', '10.1.0.1'));
      t.is((await accounts().authenticate(person.idNumber, person.password, '10.1.0.1')).name, person.name);
    }
    t.truthy(await accounts().authenticate(other.idNumber, other.password, '10.1.0.2'));
  });

  test(`${backend}: one address trying many accounts is stopped after 50 failures`, async (t) => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 50; i++) {
      await t.throwsAsync(accounts().authenticate(newCitizen().idNumber, 'guess', ip), {
        message: 'account.credentials',
      });
    }
    const person = newCitizen();
    await yitong.createCitizen(person);
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
