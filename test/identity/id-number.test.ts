import test from 'ava';
import { checkCharacter, factsOf, maskIdNumber, parseIdNumber } from '../../src/identity/id-number.ts';
import { parseMobile } from '../../src/identity/phone.ts';

const today = new Date('2026-11-22T00:00:00Z');

test('valid numbers pass, lower-case x is normalised, and the check character X is accepted', (t) => {
  const withX = parseIdNumber('11010519491231002x', today);
  t.deepEqual(withX, { ok: true, value: '11010519491231002X' });
  t.true(parseIdNumber(' 440106198001010019 ', today).ok);
  t.deepEqual(parseIdNumber('110105 19491231\u3000002x', today), withX, 'spaces as typed');
  t.deepEqual(parseIdNumber('１１０１０５１９４９１２３１００２Ｘ', today), withX, 'full-width');
  t.true(
    parseIdNumber('910105199001010016'.slice(0, 17) + checkCharacter('91010519900101001'), today).ok,
    'foreigners’ permanent residence (9…)',
  );
});

test('derived facts: birth date, gender from the sequence parity, masked form', (t) => {
  const parsed = parseIdNumber('11010519491231002X', today);
  if (!parsed.ok) return t.fail();
  t.deepEqual(factsOf(parsed.value), {
    birthdate: '1949-12-31',
    gender: 'female',
    masked: '110105********002X',
  });
  const male = parseIdNumber(`44010619800101001${checkCharacter('44010619800101001')}`, today);
  if (!male.ok) return t.fail();
  t.is(factsOf(male.value).gender, 'male');
  t.is(maskIdNumber('440106198001010017'), '440106********0017');
});

const failures: Array<[string, string, string]> = [
  ['empty', '', 'id_number.required'],
  ['wrong length', '1101051949123100', 'id_number.length'],
  ['bad character', '1101051949123A002X', 'id_number.charset'],
  ['X not last', 'X10105194912310021', 'id_number.charset'],
  ['unknown province prefix', `00010519491231002${checkCharacter('00010519491231002')}`, 'id_number.region'],
  [
    'prefix 72 is not a province',
    `72010519491231002${checkCharacter('72010519491231002')}`,
    'id_number.region',
  ],
  ['impossible date (Feb 30)', `11010519900230002${checkCharacter('11010519900230002')}`, 'id_number.date'],
  ['impossible date (month 13)', `11010519901301002${checkCharacter('11010519901301002')}`, 'id_number.date'],
  [
    'not a leap year (1900-02-29)',
    `11010519000229002${checkCharacter('11010519000229002')}`,
    'id_number.date',
  ],
  ['future date', `11010520300101002${checkCharacter('11010520300101002')}`, 'id_number.future'],
  ['bad check character', '110105194912310021', 'id_number.check'],
];

for (const [rule, input, error] of failures) {
  test(`refused with its rule: ${rule}`, (t) => {
    t.deepEqual(parseIdNumber(input, today), { ok: false, error });
  });
}

test('a leap day is a real date', (t) => {
  t.true(parseIdNumber(`11010520000229002${checkCharacter('11010520000229002')}`, today).ok);
});

test('mobile numbers as typed: spaces, hyphens and full-width digits are ignored', (t) => {
  for (const typed of ['139 1234 5678', '139-1234-5678', '１３９　１２３４－５６７８', ' 13912345678 '])
    t.is(parseMobile(typed), '13912345678', typed);
  for (const wrong of ['1391234567', '12912345678', '139 1234 567a', '+86 139 1234 5678'])
    t.is(parseMobile(wrong), undefined, wrong);
});
