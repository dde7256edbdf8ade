/**
 * The catalogue of verified attribute types: the shipped manifests load; a value is checked
 * against its type's JSON Schema; a bad manifest is named with its field and nothing is loaded.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CatalogueError, loadCatalogue } from '../../src/attributes/catalogue.ts';
import { mod3736CheckCharacter } from '../../src/certificates/identifier.ts';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';

const SHIPPED = new URL('../../attributes/', import.meta.url).pathname;

test('the shipped catalogue: household registration, education, social insurance, marriage, driving licence, business licence', async (t) => {
  const catalogue = await loadCatalogue(SHIPPED);
  t.deepEqual(
    [...catalogue.keys()],
    [
      'business_licence',
      'driving_licence',
      'education',
      'household_registration',
      'marriage_registration',
      'social_insurance',
    ],
  );
  t.is(catalogue.get('business_licence')?.holder, 'entity');
  t.is(catalogue.get('household_registration')?.sensitivity, 'sensitive');
  const education = catalogue.get('education');
  t.deepEqual(education?.check({ level: '本科', institution: '中山大学', graduated_on: '2015-06-30' }), []);
  t.deepEqual(
    education?.check({ level: '小学', institution: '中山大学', graduated_on: '2015-13-30', extra: 1 }),
    [
      '(value): must NOT have additional properties',
      '/level: must be equal to one of the allowed values',
      '/graduated_on: must match format "date"',
    ],
  );
  t.true((education?.check('本科') ?? []).length > 0, 'not even an object');
});

const bad: Array<[string, Record<string, unknown>, RegExp]> = [
  ['no code', { code: undefined }, /code:/],
  ['an unknown field', { extra: true }, /unrecognized key/i],
  ['an unknown holder', { holder: 'pet' }, /holder:/],
  [
    'a bad region',
    { sources: [{ department: '省教育厅', region_code: '999999' }] },
    /sources\.0\.region_code:/,
  ],
  [
    'a schema with an unknown keyword',
    { schema: { type: 'object', properties: {}, requierd: [] } },
    /schema:/,
  ],
  ['a schema that is not a schema', { schema: { type: 'no-such-type' } }, /schema:/],
];

for (const [what, change, problem] of bad)
  test(`a manifest with ${what} is named with its field, and nothing of the folder is loaded`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'catalogue-'));
    const good = {
      code: 'education',
      name: { 'zh-CN': '学历', en: 'Education' },
      holder: 'person',
      sources: [{ department: '省教育厅', region_code: '440000' }],
      sensitivity: 'general',
      retention_days: 3650,
      schema: { type: 'object' },
    };
    await writeFile(join(dir, 'a-good.json'), JSON.stringify({ ...good, code: 'good_type' }));
    await writeFile(join(dir, 'b-bad.json'), JSON.stringify({ ...good, ...change }));
    const error = await t.throwsAsync(loadCatalogue(dir), { instanceOf: CatalogueError });
    t.regex(error?.message ?? '', /b-bad\.json/);
    t.regex(error?.message ?? '', problem);
  });

test('a code defined twice, or a file that is not JSON, is refused by name', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'catalogue-'));
  const type = {
    code: 'twice',
    name: { 'zh-CN': '两次', en: 'Twice' },
    holder: 'person',
    sources: [{ department: '部门', region_code: '440000' }],
    sensitivity: 'general',
    retention_days: 1,
    schema: { type: 'object' },
  };
  await writeFile(join(dir, 'a.json'), JSON.stringify(type));
  await writeFile(join(dir, 'b.json'), JSON.stringify(type));
  await t.throwsAsync(loadCatalogue(dir), { message: /b\.json: code: twice is defined twice/ });
  await writeFile(join(dir, 'b.json'), '{ not json');
  await t.throwsAsync(loadCatalogue(dir), { message: /b\.json: not JSON/ });
});

test('a certificate type’s value carries an identifier of its own type (GB/T 36904) and a status', async (t) => {
  const licence = (await loadCatalogue(SHIPPED)).get('driving_licence');
  const issuer = `11440000006940026${creditCheckCharacter('11440000006940026')}`;
  const idOf = (typeCode: string) => {
    const body = [typeCode, issuer, '2019081500001', '001'];
    return `1.2.156.3005.2.${body.join('.')}.${mod3736CheckCharacter(body.join(''))}`;
  };
  const value = (certificate_id: string, status = 'valid') => ({
    certificate_id,
    number: '440106199001011234',
    status,
    classes: ['C1'],
    first_issued_on: '2010-03-01',
    valid_until: '2030-03-01',
  });
  t.deepEqual(licence?.check(value(idOf('JDCJSZ'))), []);
  const right = idOf('JDCJSZ');
  const wrong = `${right.slice(0, -1)}${right.endsWith('0') ? '1' : '0'}`;
  t.deepEqual(
    licence?.check(value(wrong)),
    ['/certificate_id: certificate_id.check'],
    'a wrong check character',
  );
  t.deepEqual(licence?.check(value(idOf('YYZZ'))), ['/certificate_id: not of type JDCJSZ']);
  t.true((licence?.check(value(idOf('JDCJSZ'), 'lost')) ?? []).length > 0, 'an unknown status');
  t.true((licence?.check({ ...value(idOf('JDCJSZ')), certificate_id: undefined }) ?? []).length > 0);
});

test('a value that is not an object, or a list without maxItems, is refused at load', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'catalogue-'));
  const type = (schema: unknown) => ({
    code: 'bounded',
    name: { 'zh-CN': '有界', en: 'Bounded' },
    holder: 'person',
    sources: [{ department: '部门', region_code: '440000' }],
    sensitivity: 'general',
    retention_days: 1,
    schema,
  });
  await writeFile(join(dir, 'a.json'), JSON.stringify(type({ type: 'string' })));
  await t.throwsAsync(loadCatalogue(dir), { message: /must be an object/ });
  const list = {
    type: 'object',
    properties: { xs: { type: 'array', uniqueItems: true, items: { enum: [1] } } },
  };
  await writeFile(join(dir, 'a.json'), JSON.stringify(type(list)));
  await t.throwsAsync(loadCatalogue(dir), { message: /maxItems/ });
});
