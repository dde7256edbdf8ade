import test from 'ava';
import { creditCheckCharacter, parseCreditCode, regionOf } from '../../src/identity/credit-code.ts';
import { newCreditCode } from '../helpers/people.ts';

test('a published valid code passes, lower case normalised; its division code is read', (t) => {
  const parsed = parseCreditCode(' 91350100m000100y43 ');
  t.deepEqual(parsed, { ok: true, value: '91350100M000100Y43' });
  if (parsed.ok) t.is(regionOf(parsed.value), '350100');
  t.deepEqual(parseCreditCode('9135 0100 M000 100Y\u300043'), parsed, 'spaces as typed');
  t.deepEqual(parseCreditCode('９１３５０１００Ｍ０００１００Ｙ４３'), parsed, 'full-width');
});

test('generated codes pass: the check character follows GB 32100 (weights 3^i mod 31)', (t) => {
  for (let i = 0; i < 50; i++) t.true(parseCreditCode(newCreditCode()).ok);
  // The weights are 3^i mod 31: recompute the check for a code independently.
  const code = '91350100M000100Y4';
  const charset = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const sum = [...code].reduce((s, c, i) => s + ((charset.indexOf(c) * 3 ** i) % 31), 0);
  t.is(creditCheckCharacter(code), charset[(31 - (sum % 31)) % 31] ?? '');
});

const failures: Array<[string, string, string]> = [
  ['empty', '', 'credit_code.required'],
  ['17 characters', '91350100M000100Y4', 'credit_code.length'],
  ['19 characters', '91350100M000100Y431', 'credit_code.length'],
  ['a letter I', '91350100M000I00Y43', 'credit_code.charset'],
  ['a letter O', '9135010OM000100Y43', 'credit_code.charset'],
  ['a letter S', '91350100M000100S43', 'credit_code.charset'],
  ['a letter V, Z', '9135010VZ000100Y43', 'credit_code.charset'],
  ['a division code that is not one', '91990100M000100Y43', 'credit_code.region'],
  ['a wrong check character', '91350100M000100Y44', 'credit_code.check'],
];

for (const [what, input, error] of failures) {
  test(`refused with its rule: ${what}`, (t) => {
    t.deepEqual(parseCreditCode(input), { ok: false, error });
  });
}
