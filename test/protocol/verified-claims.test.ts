/**
 * Verified data through OpenID Connect: a site (openid-client) asks for `verified_claims` with the
 * `claims` parameter (object form) or a type's scope; the response meets OpenID Connect for
 * Identity Assurance 1.0's schema rules (checked below from the specification); only what was
 * requested, allowed and consented is released, on the ID token, UserInfo and after refresh;
 * IDA's value/values/max_age filters hold; a sensitive type needs a listed service item and a
 * purpose; revoked and expired certificates stay out; every release is in the ledger with item,
 * source and purpose.
 */
import test from 'ava';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { mod3736CheckCharacter } from '../../src/certificates/identifier.ts';
import { creditCheckCharacter } from '../../src/identity/credit-code.ts';
import { signInTo } from '../helpers/account.ts';
import { Browser, submit } from '../helpers/browser.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const LIBRARY = 'https://zzk.example.gov.cn/v1';
let yitong: Yitong;
test.before(async () => {
  yitong = await startYitong('postgres', { CERTIFICATE_LIBRARY_URL: LIBRARY });
});
test.after.always(() => yitong?.stop());

const HOUSEHOLD_ITEM = '11440000006940026X4000110003000';

/** A source department's backend, publishing `types`: a publish function, and its API. */
async function source(types: string[], department: string) {
  return (await sourceApi(types, department)).publish;
}

async function sourceApi(types: string[], department: string) {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: `${department}数据接口`,
    department,
    region_code: '440000',
    grant_types: ['client_credentials'],
    publishes: types,
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const token = (await client.clientCredentialsGrant(site.config)).access_token;
  const call = (path: string, body?: unknown) =>
    fetch(`${yitong.issuer}/sources/v1${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  return {
    call,
    publish: (record: Record<string, unknown>) =>
      call('/attributes', record).then(async (answer) => {
        if (answer.status !== 200) throw new Error(`publish: ${answer.status} ${await answer.text()}`);
      }),
  };
}

const issuer = `11440000006940026${creditCheckCharacter('11440000006940026')}`;
const licenceId = (serial: string) => {
  const body = ['JDCJSZ', issuer, serial, '001'];
  return `1.2.156.3005.2.${body.join('.')}.${mod3736CheckCharacter(body.join(''))}`;
};

/** A person at identity level 2 with education, a driving licence and household registration on record. */
async function personWithData(licence: { status?: string } = {}) {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  await yitong.server.container.accountsRepo.raiseIdentityLevel(sub, 2, {
    actor: sub,
    action: 'identity.verified',
    subject: sub,
  });
  const holder = { id_number: person.idNumber };
  const education = await sourceApi(['education'], '省教育厅');
  await education.publish({
    holder,
    type: 'education',
    value: { level: '本科', institution: '中山大学', graduated_on: '2015-06-30' },
    verified_at: '2026-11-30T10:00:00+08:00',
    evidence: { type: 'electronic_record' },
  });
  const id = licenceId(String(Date.now() % 1e12));
  await (await source(['driving_licence'], '省公安厅交通管理局'))({
    holder,
    type: 'driving_licence',
    value: {
      certificate_id: id,
      number: person.idNumber,
      status: licence.status ?? 'valid',
      classes: ['C1'],
      first_issued_on: '2010-03-01',
      valid_until: '2030-03-01',
    },
    verified_at: new Date().toISOString(),
    evidence: { type: 'electronic_record' },
  });
  await (await source(['household_registration'], '省公安厅'))({
    holder,
    type: 'household_registration',
    value: { address: '广州市越秀区府前路1号', relation_to_head: '户主' },
    verified_at: new Date().toISOString(),
    evidence: { type: 'electronic_record' },
  });
  return { person, sub, licence: id, education };
}

async function site(scope: string, extra: Record<string, unknown> = {}) {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '驾驶人服务',
    department: '省公安厅交通管理局',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    scope,
    ...extra,
  });
  return discoverSite(yitong.issuer, clientId, clientSecret);
}

const IDA_VERIFICATION = [
  'trust_framework',
  'assurance_level',
  'assurance_process',
  'time',
  'verification_process',
  'evidence',
];
const EVIDENCE_TYPES = ['document', 'electronic_record', 'vouch', 'electronic_signature'];

/**
 * IDA 1.0's rules for a `verified_claims` response (OpenID Identity Assurance Schema Definition
 * 1.0, §5): an object or a non-empty array of them; each with `verification` (a string
 * `trust_framework`; `time` an ISO 8601 date-time; `evidence` a list of typed items whose
 * `check_details` name a `check_method`) and a non-empty `claims` object.
 */
function idaProblems(verified: unknown): string[] {
  const elements = Array.isArray(verified) ? verified : [verified];
  if (!elements.length) return ['empty array'];
  return elements.flatMap((element, i) => {
    const problems: string[] = [];
    const { verification, claims } = element as { verification?: Record<string, unknown>; claims?: unknown };
    if (typeof verification !== 'object' || verification === null) return [`${i}: no verification`];
    if (typeof verification.trust_framework !== 'string') problems.push(`${i}: trust_framework`);
    for (const key of Object.keys(verification))
      if (!IDA_VERIFICATION.includes(key)) problems.push(`${i}: unknown verification.${key}`);
    if ('assurance_level' in verification && typeof verification.assurance_level !== 'string')
      problems.push(`${i}: assurance_level`);
    if ('time' in verification && Number.isNaN(Date.parse(String(verification.time))))
      problems.push(`${i}: time`);
    for (const evidence of (verification.evidence as Array<Record<string, unknown>> | undefined) ?? []) {
      if (!EVIDENCE_TYPES.includes(String(evidence.type))) problems.push(`${i}: evidence type`);
      for (const check of (evidence.check_details as Array<Record<string, unknown>> | undefined) ?? [])
        if (typeof check.check_method !== 'string') problems.push(`${i}: check_method`);
      const record = evidence.record as { source?: { name?: unknown } } | undefined;
      if (record?.source && typeof record.source.name !== 'string') problems.push(`${i}: record source`);
    }
    if (typeof claims !== 'object' || claims === null || !Object.keys(claims).length)
      problems.push(`${i}: claims`);
    return problems;
  });
}

type Verified = Array<{ verification: Record<string, unknown>; claims: Record<string, unknown> }>;

/** Signs in through a site with these request parameters; the tokens and what the consent page said. */
async function signIn(
  rp: Awaited<ReturnType<typeof site>>,
  person: { idNumber: string; password: string },
  extra: Record<string, string>,
  decline: string[] = [],
) {
  const pending = await authorizationRequest(rp, { scope: extra.scope ?? 'openid profile', extra });
  const walk = await walkAuthorization(new Browser(), pending.url, person, REDIRECT_URI, decline);
  const callback = new URL(walk.callbackUrl);
  if (callback.searchParams.has('error')) return { walk, error: Object.fromEntries(callback.searchParams) };
  const tokens = await exchangeCode(rp, walk.callbackUrl, pending);
  const userinfo = await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()?.sub ?? '');
  return { walk, tokens, userinfo };
}

const claimsRequest = (userinfo: Record<string, unknown>, idToken?: Record<string, unknown>) =>
  JSON.stringify({ userinfo, ...(idToken && { id_token: idToken }) });

test('the claims parameter: what was asked, allowed and consented, as IDA verified_claims on UserInfo and the ID token', async (t) => {
  const { person, licence } = await personWithData();
  const rp = await site('openid profile verified:education verified:driving_licence');
  const { walk, tokens, userinfo } = await signIn(rp, person, {
    claims: claimsRequest(
      {
        verified_claims: {
          verification: { trust_framework: null, time: null, evidence: null },
          claims: { name: null, education: null, driving_licence: null, household_registration: null },
        },
        driving_licence_file: null,
      },
      { verified_claims: { verification: { trust_framework: null }, claims: { education: null } } },
    ),
  });
  t.regex(walk.consentHtml ?? '', /学历/);
  t.regex(walk.consentHtml ?? '', /省教育厅核验于 2026-11-30/, 'each item with its source and date');
  t.regex(walk.consentHtml ?? '', /机动车驾驶证/);
  t.notRegex(walk.consentHtml ?? '', /户籍登记/, 'a type the site may not have is not even offered');
  const verified = userinfo?.verified_claims as Verified;
  t.deepEqual(idaProblems(verified), []);
  t.deepEqual(
    verified.map((element) => Object.keys(element.claims)),
    [['name'], ['education'], ['driving_licence']],
    'the identity level, and each type: only the claims requested',
  );
  const [identity, education, licenceElement] = verified;
  t.like(identity?.verification, { trust_framework: 'cn_yitong' });
  t.is(identity?.verification.assurance_level, undefined, 'not requested, not sent');
  t.deepEqual(
    ((identity?.verification.evidence ?? []) as Array<{ type: string }>).map((e) => e.type),
    ['electronic_record'],
  );
  t.is(education?.verification.time, '2026-11-30T02:00:00.000Z');
  t.like(((education?.verification.evidence ?? []) as Array<Record<string, unknown>>)[0], {
    type: 'electronic_record',
    record: { type: 'education', source: { name: '省教育厅' } },
  });
  t.like(education?.claims.education, { institution: '中山大学' });
  t.like(licenceElement?.claims.driving_licence, { certificate_id: licence, status: 'valid' });
  t.is(userinfo?.household_registration, undefined);

  // The certificate's file: a distributed claim at the library, with a short-lived token for it alone.
  const names = userinfo?._claim_names as Record<string, string>;
  const sources = userinfo?._claim_sources as Record<string, { endpoint: string; access_token: string }>;
  t.deepEqual(names, { driving_licence_file: 'driving_licence' });
  t.is(sources.driving_licence?.endpoint, `${LIBRARY}/certificates/${encodeURIComponent(licence)}/file`);
  const jwks = createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`));
  const { payload } = await jwtVerify(sources.driving_licence?.access_token ?? '', jwks, {
    issuer: undefined,
    audience: LIBRARY,
  });
  t.is(payload.sub, licence);
  t.is((payload.exp ?? 0) - (payload.iat ?? 0), 300);

  const idToken = tokens?.claims() as { verified_claims?: Verified };
  t.deepEqual(
    idToken.verified_claims?.map((element) => Object.keys(element.claims)),
    [['education']],
    'the ID token: what its own request asked for',
  );
  t.deepEqual(idaProblems(idToken.verified_claims), []);
});

test('declined items stay out, on UserInfo and after refresh; a scope releases its whole element', async (t) => {
  const { person } = await personWithData();
  const rp = await site('openid profile offline_access verified:education verified:driving_licence');
  const first = await signIn(
    rp,
    person,
    {
      scope: 'openid profile offline_access verified:education verified:driving_licence',
      prompt: 'consent',
    },
    ['driving_licence'],
  );
  const verified = first.userinfo?.verified_claims as Verified;
  t.deepEqual(
    verified.map((element) => Object.keys(element.claims)),
    [['education']],
  );
  t.deepEqual(idaProblems(verified), []);
  t.like(verified[0]?.verification, { trust_framework: 'cn_yitong', assurance_level: '2' });
  t.is(first.tokens?.claims()?.verified_claims, undefined, 'by scope: UserInfo, not the ID token');
  t.false((first.tokens?.scope ?? '').includes('verified:driving_licence'));
  const refreshed = await client.refreshTokenGrant(rp.config, first.tokens?.refresh_token ?? '');
  const again = await client.fetchUserInfo(
    rp.config,
    refreshed.access_token,
    first.tokens?.claims()?.sub ?? '',
  );
  t.deepEqual(
    (again.verified_claims as Verified).map((element) => Object.keys(element.claims)),
    [['education']],
  );
});

test('IDA filters: trust_framework value, assurance_level values, max_age; an array request is refused with the reason', async (t) => {
  const { person } = await personWithData();
  const rp = await site('openid profile verified:education');
  const ask = (verification: Record<string, unknown>) =>
    signIn(rp, person, {
      claims: claimsRequest({ verified_claims: { verification, claims: { education: null } } }),
    }).then((out) => (out.userinfo?.verified_claims as Verified | undefined)?.length ?? 0);
  t.is(await ask({ trust_framework: { value: 'eidas' } }), 0, 'another framework: nothing');
  t.is(await ask({ trust_framework: { values: ['eidas', 'cn_yitong'] } }), 1);
  t.is(await ask({ trust_framework: null, assurance_level: { values: ['3'] } }), 0);
  t.is(await ask({ trust_framework: null, time: { max_age: 3600 } }), 0, 'verified 2026-11-30: too old');
  t.is(await ask({ trust_framework: null, time: { max_age: 400 * 86400 } }), 1);
  t.is(await ask({ trust_framework: null, evidence: [{ type: { value: 'document' } }] }), 0);
  for (const bad of [
    { verified_claims: { verification: { trust_framework: null }, claims: {} } },
    { verified_claims: { verification: 'x', claims: { education: null } } },
    { verified_claims: 'education' },
  ]) {
    const refused = await signIn(rp, person, { claims: claimsRequest(bad) });
    t.like(refused.error, { error: 'invalid_request' }, JSON.stringify(bad));
  }
  const array = await signIn(rp, person, {
    claims: claimsRequest({
      verified_claims: [{ verification: { trust_framework: null }, claims: { education: null } }],
    }),
  });
  t.like(array.error, { error: 'invalid_request' });
  t.regex(array.error?.error_description ?? '', /array form/);
});

test('revoked and expired certificates, and values past valid_until, are not released', async (t) => {
  const rp = await site('openid verified:driving_licence');
  const valid = await personWithData();
  const control = await signIn(rp, valid.person, { scope: 'openid verified:driving_licence' });
  t.is(((control.userinfo?.verified_claims ?? []) as Verified).length, 1, 'a valid one is released');
  for (const licence of [{ status: 'revoked' }, { status: 'expired' }, { valid_until: 'past' }]) {
    const { person, sub } = await personWithData(licence.valid_until ? {} : licence);
    // Time passes: the value's validity ends (a source cannot publish one already ended).
    if (licence.valid_until)
      await yitong.server.container.database.db
        .updateTable('attributes')
        .set({ valid_until: new Date(Date.now() - 1000) })
        .where('holder_id', '=', sub)
        .execute();
    const out = await signIn(rp, person, { scope: 'openid verified:driving_licence' });
    t.is(out.userinfo?.verified_claims, undefined, JSON.stringify(licence));
  }
});

test('a sensitive type: only for a service item the manifest lists, with a purpose; shown on consent, kept in the ledger', async (t) => {
  const { person, sub } = await personWithData();
  const rp = await site('openid profile verified:household_registration', {
    service_items: [{ code: HOUSEHOLD_ITEM, name: '户口迁入' }],
  });
  const scope = 'openid verified:household_registration';
  const missing = await signIn(rp, person, { scope });
  t.like(missing.error, { error: 'invalid_request' });
  t.regex(missing.error?.error_description ?? '', /service item and purpose/);
  const detail = (service_item: string, purpose = '办理户口迁入，核对户籍地址') =>
    JSON.stringify([{ type: 'yitong_service_item', service_item, purpose }]);
  const foreign = await signIn(rp, person, { scope, authorization_details: detail('000000000000') });
  t.like(foreign.error, { error: 'invalid_authorization_details' });
  t.regex(foreign.error?.error_description ?? '', /not one of the service items/);
  const badPurpose = await signIn(rp, person, { scope, authorization_details: detail(HOUSEHOLD_ITEM, 'x') });
  t.like(badPurpose.error, { error: 'invalid_authorization_details' });
  t.regex(badPurpose.error?.error_description ?? '', /purpose must be one line/);

  for (const bad of [
    'not json',
    '{"type":"yitong_service_item"}',
    '[]',
    JSON.stringify([{ type: 'payment_initiation' }]),
    JSON.stringify([
      { type: 'yitong_service_item', service_item: HOUSEHOLD_ITEM, purpose: '迁入', extra: 1 },
    ]),
  ]) {
    const refused = await signIn(rp, person, { scope, authorization_details: bad });
    t.true(['invalid_authorization_details', 'invalid_request'].includes(refused.error?.error ?? ''), bad);
  }
  const ok = await signIn(rp, person, { scope, authorization_details: detail(HOUSEHOLD_ITEM) });
  t.regex(
    ok.walk.consentHtml ?? '',
    /办理事项：户口迁入（11440000006940026X4000110003000）。用途：办理户口迁入，核对户籍地址/,
  );
  t.regex(ok.walk.consentHtml ?? '', /户籍登记（敏感）/);
  t.like(((ok.userinfo?.verified_claims ?? []) as Verified)[0]?.claims.household_registration, {
    relation_to_head: '户主',
  });
  const ledger = await yitong.server.container.database.db
    .selectFrom('audit_events')
    .select('details')
    .where('subject', '=', sub)
    .where('action', '=', 'claims.released')
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow();
  t.like(ledger.details, {
    use: 'userinfo',
    items: [{ item: 'household_registration', source: '省公安厅' }],
    purpose: { service_item: HOUSEHOLD_ITEM, purpose: '办理户口迁入，核对户籍地址' },
  });
  // The citizen's own CSV names the item, its source, the site and the purpose.
  const browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  const csv = (await browser.visit(`${yitong.issuer}/account/releases?format=csv`)).html;
  t.regex(
    csv,
    new RegExp(
      `,驾驶人服务,省公安厅交通管理局,网站查询,[^\r\n]*,户籍登记（省公安厅）,办理事项 ${HOUSEHOLD_ITEM}，用途：办理户口迁入，核对户籍地址\r\n`,
    ),
  );
});

test('discovery advertises the claims parameter and what verified_claims can hold', async (t) => {
  const metadata = (await (
    await fetch(`${yitong.issuer}/.well-known/openid-configuration`)
  ).json()) as Record<string, unknown>;
  t.like(metadata, {
    claims_parameter_supported: true,
    verified_claims_supported: true,
    trust_frameworks_supported: ['cn_yitong'],
    evidence_supported: ['document', 'electronic_record'],
    documents_check_methods_supported: ['vpip'],
    authorization_details_types_supported: ['yitong_service_item'],
  });
  t.true((metadata.claims_in_verified_claims_supported as string[]).includes('education'));
  t.true((metadata.scopes_supported as string[]).includes('verified:business_licence'));
});

test('我的证照与数据: the sites each item went to, and "this is wrong" reaching the source department until it answers', async (t) => {
  const { person, education: edu } = await personWithData();
  const rp = await site('openid verified:education');
  await signIn(rp, person, { scope: 'openid verified:education' });
  const browser = new Browser();
  let page = await signInTo(browser, yitong.issuer, person, '/account/data');
  t.regex(page.html, /已提供给：驾驶人服务/, 'the site that received the education record');
  t.regex(page.html, /还没有提供给任何网站/, 'the licence went nowhere');

  // Bad input: a clear error next to the field, nothing sent.
  page = await submit(browser, page, '/account/data/correction', { type: 'education', message: ' ' });
  t.is(page.status, 400);
  t.regex(page.html, /请用 2 至 500 个字说明哪里不对/);
  t.deepEqual(
    ((await (await edu.call('/corrections')).json()) as { corrections: unknown[] }).corrections.filter(
      (c) => (c as { holder: { id_number: string } }).holder.id_number === person.idNumber,
    ),
    [],
  );
  const none = await submit(browser, page, '/account/data/correction', {
    type: 'marriage_registration',
    message: '没有这条',
  });
  t.is(none.status, 404);

  page = await submit(browser, page, '/account/data/correction', {
    type: 'education',
    message: '毕业时间应为 2015-07-01',
  });
  t.regex(page.html, /更正申请已发送给省教育厅/);
  const again = await submit(
    browser,
    await browser.visit(`${yitong.issuer}/account/data`),
    '/account/data/correction',
    {
      type: 'education',
      message: '再说一次',
    },
  );
  t.is(again.status, 409, 'one open request per item');

  // The source department sees it, with the person's number, and answers.
  const open = (
    (await (await edu.call('/corrections')).json()) as {
      corrections: Array<{ id: string; type: string; holder: { id_number: string }; message: string }>;
    }
  ).corrections.find((c) => c.holder.id_number === person.idNumber);
  t.like(open, { type: 'education', message: '毕业时间应为 2015-07-01' });
  const stranger = await sourceApi(['education'], '省教育厅');
  t.is((await stranger.call(`/corrections/${open?.id}`, { answer: '已核实' })).status, 404, 'only its own');
  t.is((await edu.call(`/corrections/${open?.id}`, { answer: 'x' })).status, 400);
  t.is((await edu.call('/corrections/abc', { answer: '已核实并更正' })).status, 404);
  t.is((await edu.call(`/corrections/${open?.id}`, { answer: '已核实并更正' })).status, 200);
  page = await browser.visit(`${yitong.issuer}/account/data`);
  t.regex(page.html, /答复：已核实并更正/);
});

test('an entity’s business licence: released under legal_person with its scope, for the entity the person acts for', async (t) => {
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const creditCode = newCreditCode();
  const entity = await yitong.server.container.legalPersons.createByOperator({
    creditCode,
    name: '广州一通科技有限公司',
    representativeIdNumber: person.idNumber,
  });
  const body = ['YYZZ', creditCode, String(Date.now() % 1e12), '001'];
  const registry = await source(['business_licence'], '省市场监督管理局');
  await registry({
    holder: { credit_code: creditCode },
    type: 'business_licence',
    value: {
      certificate_id: `1.2.156.3005.2.${body.join('.')}.${mod3736CheckCharacter(body.join(''))}`,
      number: creditCode,
      status: 'valid',
      name: '广州一通科技有限公司',
      type: '有限责任公司',
      legal_representative: person.name,
      registered_capital: '100万元',
      established_on: '2020-01-02',
      address: '广州市天河区',
    },
    verified_at: new Date().toISOString(),
    evidence: { type: 'electronic_record' },
  });
  const rp = await site('openid legal_person verified:business_licence');
  await yitong.server.container.legalPersons.choose(sub, rp.clientId, entity.id);
  const acting = await signIn(rp, person, { scope: 'openid legal_person verified:business_licence' });
  t.like(acting.userinfo?.legal_person, { credit_code: creditCode });
  const [licence] = (acting.userinfo?.verified_claims ?? []) as Verified;
  t.like(licence?.claims.business_licence, { name: '广州一通科技有限公司', status: 'valid' });
  t.is(licence?.verification.assurance_level, undefined, 'an entity has no identity level of its own');
  t.deepEqual(idaProblems(acting.userinfo?.verified_claims), []);

  // Without legal_person the site learns of no entity, so of no entity's licence either.
  const alone = await site('openid verified:business_licence');
  const plain = await signIn(alone, person, { scope: 'openid verified:business_licence' });
  t.is(plain.userinfo?.verified_claims, undefined);
});
