/**
 * Source departments publish verified attributes through /sources/v1 with a client-credentials
 * token: only the types their manifest lists (403 otherwise); bad records get a reason and change
 * nothing; an unknown person is refused; bulk JSON Lines answer line by line; every change is one
 * audit row that never holds the value.
 */
import test from 'ava';
import * as client from 'openid-client';
import { seedCitizens, syntheticIdNumber } from '../../src/bench/seed.ts';
import { mod3736CheckCharacter } from '../../src/certificates/identifier.ts';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';
import { signInTo } from '../helpers/account.ts';
import { Browser } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { discoverSite, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres');
});
test.after.always(() => yitong?.stop());

test('embedded (PGlite): a source publishes and withdraws', async (t) => {
  const embedded = await startYitong('pglite');
  t.teardown(() => embedded.stop());
  const person = newCitizen();
  const sub = await embedded.createCitizen(person);
  const { clientId, clientSecret } = await embedded.addClient({
    client_name: '省教育厅数据接口',
    department: '省教育厅',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['client_credentials'],
    scope: 'openid',
    publishes: ['education'],
  });
  const site = await discoverSite(embedded.issuer, clientId, clientSecret);
  const token = (await client.clientCredentialsGrant(site.config)).access_token;
  const send = (body: unknown) =>
    fetch(`${embedded.issuer}/sources/v1/attributes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    }).then((answer) => answer.json());
  t.deepEqual(await send(education(person.idNumber)), { status: 'stored' });
  t.deepEqual(await send({ holder: { id_number: person.idNumber }, type: 'education', withdraw: true }), {
    status: 'withdrawn',
  });
  const row = await embedded.server.container.database.db
    .selectFrom('attributes')
    .selectAll()
    .where('holder_id', '=', sub)
    .executeTakeFirstOrThrow();
  t.like(row, { type_code: 'education', source_client_id: clientId });
  t.truthy(row.withdrawn_at);
});

/** A source department's backend: a client-credentials token of a client publishing `types`. */
async function sourceToken(types: string[] | undefined, department = '省教育厅') {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: `${department}数据接口`,
    department,
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['client_credentials'],
    scope: 'openid',
    ...(types && { publishes: types }),
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  return (await client.clientCredentialsGrant(site.config)).access_token;
}

const post = (token: string | undefined, path: string, body: string, type = 'application/json') =>
  fetch(`${yitong.issuer}/sources/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': type, ...(token && { authorization: `Bearer ${token}` }) },
    body,
  });

const education = (idNumber: string, value: Record<string, unknown> = {}) => ({
  holder: { id_number: idNumber },
  type: 'education',
  value: { level: '本科', institution: '中山大学', graduated_on: '2015-06-30', ...value },
  verified_at: '2026-11-30T10:00:00+08:00',
  valid_until: '2099-12-31',
  evidence: {
    type: 'electronic_record',
    record: { type: 'education_register', source: { name: '省教育厅' } },
  },
});

const stored = (holderId: string, type = 'education') =>
  yitong.server.container.database.db
    .selectFrom('attributes')
    .selectAll()
    .where('holder_id', '=', holderId)
    .where('type_code', '=', type)
    .executeTakeFirst();

test('a source publishes, replaces and withdraws a person’s verified attribute; each change one audit row without the value', async (t) => {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const token = await sourceToken(['education']);

  const first = await post(token, '/attributes', JSON.stringify(education(person.idNumber)));
  t.is(first.status, 200);
  t.deepEqual(await first.json(), { status: 'stored' });
  t.like(await stored(sub), { withdrawn_at: null, evidence: { type: 'electronic_record' } });
  t.like((await stored(sub))?.value, { level: '本科' });

  const second = await post(
    token,
    '/attributes',
    JSON.stringify(education(person.idNumber, { level: '硕士研究生' })),
  );
  t.is(second.status, 200);
  t.like((await stored(sub))?.value, { level: '硕士研究生' }, 'replaced');

  const withdrawn = await post(
    token,
    '/attributes',
    JSON.stringify({ holder: { id_number: person.idNumber }, type: 'education', withdraw: true }),
  );
  t.deepEqual(await withdrawn.json(), { status: 'withdrawn' });
  t.truthy((await stored(sub))?.withdrawn_at);

  const rows = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select(['actor', 'action', 'details'])
    .where('subject', '=', sub)
    .where('action', 'like', 'attribute.%')
    .orderBy('seq')
    .execute();
  t.deepEqual(
    rows.map((row) => row.action),
    ['attribute.published', 'attribute.published', 'attribute.withdrawn'],
  );
  t.regex(rows[0]?.actor ?? '', /^client:/);
  t.false(JSON.stringify(rows).includes('中山大学'), 'the value is not in the audit trail');
  t.false(JSON.stringify(rows).includes(person.idNumber), 'nor the identity number');
});

test('only the types a source’s manifest lists; only a client-credentials token of a source', async (t) => {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const token = await sourceToken(['education']);
  const foreign = {
    ...education(person.idNumber),
    type: 'household_registration',
    value: { address: 'x', relation_to_head: '户主' },
  };
  const refused = await post(token, '/attributes', JSON.stringify(foreign));
  t.is(refused.status, 403);
  t.like(await refused.json(), { error: 'attribute.not_yours' });
  t.is(await stored(sub, 'household_registration'), undefined);

  // A client listing the type, of a department that is not one of the type's sources.
  const pretender = await sourceToken(['household_registration'], '某区教育局');
  const pretended = {
    ...education(person.idNumber),
    type: 'household_registration',
    value: { address: 'x', relation_to_head: '户主' },
  };
  t.is((await post(pretender, '/attributes', JSON.stringify(pretended))).status, 403);
  const notASource = await sourceToken(undefined);
  t.is((await post(notASource, '/attributes', JSON.stringify(education(person.idNumber)))).status, 403);
  t.is((await post(undefined, '/attributes', JSON.stringify(education(person.idNumber)))).status, 401);
  t.is((await post('not-a-token-at-all-123456789', '/attributes', '{}')).status, 401);
  // Another spelling of the address is no way around the token check.
  for (const path of ['/SOURCES/V1/corrections', '/Sources/v1/corrections'])
    t.is((await fetch(`${yitong.issuer}${path}`)).status, 404, path);
  const shouted = await fetch(`${yitong.issuer}/SOURCES/V1/ATTRIBUTES/BULK`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify(education(person.idNumber))}\n`,
  });
  t.is(shouted.status, 404);
  t.is(await stored(sub), undefined, 'nothing stored');
});

test('bad records are refused with a reason and change nothing; an unknown person is refused', async (t) => {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const token = await sourceToken(['education', 'business_licence']);
  const cases: Array<[string, unknown, number, string]> = [
    ['a value outside its schema', education(person.idNumber, { level: '小学' }), 400, 'attribute.value'],
    [
      'an unknown type',
      { ...education(person.idNumber), type: 'no_such_type' },
      400,
      'attribute.type_unknown',
    ],
    ['a bad identity number', education('110105194912310021'), 400, 'id_number.check'],
    ['an unknown person', education(newCitizen().idNumber), 422, 'attribute.holder_unknown'],
    [
      'a verification in the future',
      { ...education(person.idNumber), verified_at: '2099-01-01T00:00:00Z' },
      400,
      'attribute.invalid',
    ],
    [
      'a validity already past',
      { ...education(person.idNumber), valid_until: '2001-01-01' },
      400,
      'attribute.invalid',
    ],
    ['no evidence', { ...education(person.idNumber), evidence: undefined }, 400, 'attribute.invalid'],
    ['an unknown field', { ...education(person.idNumber), extra: 1 }, 400, 'attribute.invalid'],
    ['a NUL in the value', education(person.idNumber, { institution: 'a\u0000b' }), 400, 'request.invalid'],
  ];
  for (const [what, body, status, error] of cases) {
    const answer = await post(token, '/attributes', JSON.stringify(body));
    t.is(answer.status, status, what);
    const json = (await answer.json()) as { error: string; error_description: string };
    t.is(json.error, error, what);
    t.notRegex(json.error_description, /[\u4e00-\u9fff]/, `${what}: one language`);
  }
  // The registry's own source, naming a person for an entity's type.
  const registry = await sourceToken(['business_licence'], '省市场监督管理局');
  const kind = await post(
    registry,
    '/attributes',
    JSON.stringify({ ...education(person.idNumber), type: 'business_licence' }),
  );
  t.is(kind.status, 400);
  t.like(await kind.json(), { error: 'attribute.holder_kind' });
  t.is((await post(token, '/attributes', 'not json')).status, 400);
  t.is((await post(token, '/attributes', '[]')).status, 400);
  t.is(await stored(sub), undefined, 'nothing stored');
});

test('bulk JSON Lines: one result per line; the good ones stored, the bad ones refused with their reason', async (t) => {
  const people = [newCitizen(), newCitizen(), newCitizen()];
  const subs = await Promise.all(people.map((person) => yitong.createCitizen(person)));
  const code = newCreditCode();
  const token = await sourceToken(['education']);
  const lines = [
    JSON.stringify(education(people[0]?.idNumber ?? '')),
    '{ not json',
    JSON.stringify(education(people[1]?.idNumber ?? '', { level: '小学' })),
    JSON.stringify(education(people[2]?.idNumber ?? '')),
    JSON.stringify({ ...education(people[0]?.idNumber ?? ''), holder: { credit_code: code } }),
    JSON.stringify(education(people[2]?.idNumber ?? '', { level: '博士研究生' })),
    '"\\u0000"',
  ];
  const answer = await post(token, '/attributes/bulk', `${lines.join('\n')}\n`, 'application/x-ndjson');
  t.is(answer.status, 200);
  const results = (await answer.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { line: number; status: string; error?: string });
  t.deepEqual(
    results.map((r) => [r.line, r.status, r.error]),
    [
      [1, 'stored', undefined],
      [2, 'refused', 'attribute.invalid'],
      [3, 'refused', 'attribute.value'],
      [4, 'stored', undefined],
      [5, 'refused', 'attribute.holder_kind'],
      [6, 'stored', undefined],
      [7, 'refused', 'attribute.invalid'],
    ],
  );
  t.like((await stored(subs[0] ?? ''))?.value, { level: '本科' });
  t.is(await stored(subs[1] ?? ''), undefined);
  t.like((await stored(subs[2] ?? ''))?.value, { level: '博士研究生' }, 'the last line for a holder wins');

  t.is((await post(token, '/attributes/bulk', lines[0] ?? '')).status, 415, 'JSON Lines, said so');
  const tooMany = `${Array.from({ length: 10_001 }, () => '{}').join('\n')}\n`;
  t.is((await post(token, '/attributes/bulk', tooMany, 'application/x-ndjson')).status, 413);
});

test('我的证照与数据: the person sees what was verified, by whom, when and until when, in their language', async (t) => {
  const issuer = `11440000006940026${creditCheckCharacter('11440000006940026')}`;
  const body = ['JDCJSZ', issuer, '2019081500001', '001'];
  const licenceId = `1.2.156.3005.2.${body.join('.')}.${mod3736CheckCharacter(body.join(''))}`;
  /** The traffic police's record of the person's driving licence, as the certificate it is. */
  const licence = (certificate_id: string, status: string) => ({
    ...education(person.idNumber),
    type: 'driving_licence',
    value: {
      certificate_id,
      number: person.idNumber,
      status,
      classes: ['C1', 'D'],
      first_issued_on: '2010-03-01',
      valid_until: '2030-03-01',
    },
    valid_until: undefined,
  });
  const person = newCitizen();
  await yitong.createCitizen(person);
  const token = await sourceToken(['education']);
  const police = await sourceToken(['driving_licence'], '省公安厅交通管理局');
  await post(token, '/attributes', JSON.stringify(education(person.idNumber)));
  await post(police, '/attributes', JSON.stringify(licence(licenceId, 'valid')));
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, person, '/account/data');
  t.regex(page.html, /<h1>我的证照与数据<\/h1>/);
  t.regex(page.html, /<h2 id="item-\d">学历<\/h2>/);
  t.regex(page.html, /<dt>毕业院校<\/dt><dd>中山大学<\/dd>/);
  t.regex(page.html, /省教育厅核验于 2026-11-30 ·\s*有效期至 2099-12-31/);
  t.regex(page.html, /<dt>准驾车型<\/dt><dd>C1、D<\/dd>/);
  t.regex(page.html, /<dt>证照状态<\/dt><dd>有效<\/dd>/, 'a certificate’s status in words');
  t.regex(page.html, new RegExp(`<dt>电子证照标识</dt><dd>${licenceId.replaceAll('.', '\\.')}</dd>`));
  t.regex(page.html, /长期有效/);
  const english = await browser.visit(`${yitong.issuer}/account/data?lang=en`);
  t.regex(english.html, /<h2 id="item-\d">Driving licence<\/h2>/);
  t.regex(english.html, /<dd>C1, D<\/dd>/);
  t.regex((await browser.visit(`${yitong.issuer}/account?lang=zh-CN`)).html, /href="\/account\/data"/);

  // The issuing department revokes the licence: the page says so next to its name.
  const revoked = await post(police, '/attributes', JSON.stringify(licence(licenceId, 'revoked')));
  t.is(revoked.status, 200);
  t.regex(
    (await browser.visit(`${yitong.issuer}/account/data`)).html,
    /机动车驾驶证 <span class="blocked">· 已注销<\/span>/,
  );
  const forged = await post(
    police,
    '/attributes',
    JSON.stringify(licence(`${licenceId.slice(0, -1)}${licenceId.endsWith('0') ? '1' : '0'}`, 'valid')),
  );
  t.is(forged.status, 400, 'a certificate identifier with a wrong check character is refused');
  t.like(await forged.json(), { error: 'attribute.value' });
});

test('a full bulk request (10,000 people: more values than one PostgreSQL statement can carry) is stored whole, with its audit rows', async (t) => {
  const { db } = yitong.server.container.database;
  await seedCitizens(
    { db, sealer: yitong.server.container.sealer },
    { citizens: 10_000, password: 'seeded password 2026' },
  );
  const token = await sourceToken(['education']);
  const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify(education(syntheticIdNumber(i))));
  const answer = await post(token, '/attributes/bulk', lines.join('\n'), 'application/x-ndjson');
  t.is(answer.status, 200);
  const results = (await answer.text()).trim().split('\n');
  t.is(results.filter((line) => line.includes('"stored"')).length, 10_000);
  const published = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('action', '=', 'attribute.published')
    .where('subject', 'like', 'bench-%')
    .executeTakeFirstOrThrow();
  t.true(Number(published.n) >= 10_000);
});

test('bulk: blank lines keep the numbering; a line too long or bytes that are not UTF-8 are refused', async (t) => {
  const person = newCitizen();
  await yitong.createCitizen(person);
  const token = await sourceToken(['education']);
  const good = JSON.stringify(education(person.idNumber));
  const long = JSON.stringify(education(person.idNumber, { major: 'x'.repeat(70_000) }));
  const answer = await post(token, '/attributes/bulk', `${good}\n\n${long}\n`, 'application/x-ndjson');
  const results = (await answer.text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { line: number; status: string });
  t.deepEqual(
    results.map((r) => [r.line, r.status]),
    [
      [1, 'stored'],
      [3, 'refused'],
    ],
  );
  const gbk = Buffer.concat([
    Buffer.from('{"holder":{"id_number":"'),
    Buffer.from([0xb9, 0xe3, 0xd6, 0xdd]),
    Buffer.from('"}}'),
  ]);
  const refused = await fetch(`${yitong.issuer}/sources/v1/attributes/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` },
    body: gbk,
  });
  t.is(refused.status, 400);
  t.regex(((await refused.json()) as { error_description: string }).error_description, /not valid UTF-8/);
});
