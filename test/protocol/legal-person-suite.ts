/**
 * Legal persons end to end, with a real relying party (openid-client): choosing the entity at
 * sign-in, its claims in the ID token and userinfo, switching without signing in again, and
 * every rule that stops a person acting for an entity. Runs once per storage backend
 * (legal-person-*.test.ts).
 */
import type { ExecutionContext, TestFn } from 'ava';
import * as client from 'openid-client';
import type { Person } from '../../src/accounts/repo.ts';
import { Browser, type Page, submit } from '../helpers/browser.ts';
import type { Backend } from '../helpers/databases.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI, type Site } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const SCOPE = 'openid profile legal_person';

export function legalPersonSuite(test: TestFn, backend: Backend) {
  let yitong: Yitong;
  let tax: Site;
  let social: Site;
  const service = () => yitong.server.container.legalPersons;

  test.before(async () => {
    yitong = await startYitong(backend);
    const site = (client_id: string, client_name: string) =>
      yitong.addClient({
        client_id,
        client_name,
        department: '测试部门',
        region_code: '440100',
        redirect_uris: [REDIRECT_URI],
        scope: SCOPE,
      });
    const [a, b] = [await site('tax', '电子税务局'), await site('social', '社保')];
    tax = await discoverSite(yitong.issuer, a.clientId, a.clientSecret);
    social = await discoverSite(yitong.issuer, b.clientId, b.clientSecret);
  });
  test.after.always(() => yitong?.stop());

  async function citizen() {
    const person = newCitizen();
    return { ...person, sub: await yitong.createCitizen(person), browser: new Browser() };
  }

  type Citizen = Awaited<ReturnType<typeof citizen>>;

  async function entityOf(representative: Citizen, name = '测试科技有限公司') {
    return service().createByOperator({
      creditCode: newCreditCode(),
      name,
      representativeIdNumber: representative.idNumber,
    });
  }

  /** Signs in when asked and stops at the first page that is neither sign-in nor consent, or at the site. */
  async function visit(person: Citizen, site: Site, extra: Record<string, string> = {}) {
    const pending = await authorizationRequest(site, { scope: SCOPE, extra });
    let page = await person.browser.visit(pending.url, {}, REDIRECT_URI);
    for (let step = 0; step < 4 && !page.url.startsWith(REDIRECT_URI); step++) {
      if (page.html.includes('name="password"'))
        page = await submit(
          person.browser,
          page,
          '/login',
          { id_number: person.idNumber, password: person.password },
          REDIRECT_URI,
        );
      else if (page.html.includes('/consent"'))
        page = await submit(person.browser, page, '/consent', {}, REDIRECT_URI);
      else break;
    }
    return { pending, page };
  }

  /** Chooses the entity named on the choice page, then goes on to the site. */
  async function choose(person: Citizen, page: Page, entityId: string) {
    // Posted even where the page offers no button for it: the server must refuse it then.
    let next = await person.browser.visit(
      `${page.url}/entity`,
      {
        form: {
          _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '',
          legal_person_id: entityId,
        },
      },
      REDIRECT_URI,
    );
    if (next.html.includes('/consent"'))
      next = await submit(person.browser, next, '/consent', {}, REDIRECT_URI);
    return next;
  }

  const claimOf = (claims: Record<string, unknown> | undefined) =>
    claims?.legal_person as Record<string, string> | undefined;

  test('choose the entity at sign-in; claims in the ID token and userinfo; switch without signing in again', async (t) => {
    const person = await citizen();
    const first = await entityOf(person, '甲公司');
    const second = await entityOf(person, '乙公司');

    const { pending, page } = await visit(person, tax);
    t.regex(page.html, /选择办事单位/);
    t.regex(page.html, /甲公司/);
    t.regex(page.html, /乙公司/);
    const back = await choose(person, page, first.id);
    const tokens = await exchangeCode(tax, back.url, pending);
    t.is(tokens.claims()?.sub, person.sub);
    t.deepEqual(claimOf(tokens.claims()), {
      credit_code: first.creditCode,
      name: '甲公司',
      type: 'enterprise',
      status: 'active',
      role: 'representative',
      sub: first.id,
    });
    const userinfo = await client.fetchUserInfo(tax.config, tokens.access_token, person.sub);
    t.is(claimOf(userinfo)?.credit_code, first.creditCode);

    // Switching: the site sends the person back with prompt=select_account; no password asked.
    const switching = await visit(person, tax, { prompt: 'select_account' });
    t.notRegex(switching.page.html, /name="password"/);
    t.regex(switching.page.html, /选择办事单位/);
    const switched = await choose(person, switching.page, second.id);
    const after = await exchangeCode(tax, switched.url, switching.pending);
    t.is(after.claims()?.sub, person.sub, 'sub stays the person’s');
    t.is(claimOf(after.claims())?.credit_code, second.creditCode);
    t.is(claimOf(after.claims())?.sub, second.id);

    // Remembered for the site: the next sign-in goes straight back with the chosen entity.
    const again = await visit(person, tax);
    t.true(again.page.url.startsWith(REDIRECT_URI));
    t.is(claimOf((await exchangeCode(tax, again.page.url, again.pending)).claims())?.name, '乙公司');

    const { members, uses } = await service().page(person.sub, first.creditCode);
    t.is(members.length, 1);
    t.deepEqual(
      uses.map((use) => use.clientId),
      ['tax'],
      'the entity page lists the site',
    );
  });

  test('with one choice it is still shown once, then remembered; prompt=none without a choice is an error', async (t) => {
    const person = await citizen();
    const entity = await entityOf(person);
    const none = await visit(person, tax, { prompt: 'login' });
    t.regex(none.page.html, /选择办事单位/);
    const noPrompt = await authorizationRequest(tax, { scope: SCOPE, extra: { prompt: 'none' } });
    const error = await person.browser.visit(noPrompt.url, {}, REDIRECT_URI);
    t.is(new URL(error.url).searchParams.get('error'), 'account_selection_required');
    await choose(person, none.page, entity.id);
    const second = await visit(person, tax);
    t.true(second.page.url.startsWith(REDIRECT_URI), 'not shown again');
  });

  async function withColleague(
    t: ExecutionContext,
    grant: { role?: string; clients?: string; until?: string } = {},
  ) {
    const representative = await citizen();
    const colleague = await citizen();
    const entity = await entityOf(representative);
    await service().grant({ personId: representative.sub }, entity.creditCode, {
      idNumber: colleague.idNumber,
      role: grant.role ?? 'agent',
      clients: grant.clients,
      until: grant.until,
    });
    t.truthy(entity);
    return { representative, colleague, entity };
  }

  test('an agent limited to one site acts there, and not at another', async (t) => {
    const { colleague, entity } = await withColleague(t, { clients: 'tax' });
    const atSocial = await visit(colleague, social);
    t.regex(atSocial.page.html, /您的授权不包括这个网站/);
    t.notRegex(atSocial.page.html, new RegExp(`value="${entity.id}"`), 'no button to choose it');
    const forced = await choose(colleague, atSocial.page, entity.id);
    t.is(forced.status, 403);
    t.is(await service().currentAt(colleague.sub, 'social'), undefined, 'nothing remembered');

    const atTax = await visit(colleague, tax);
    const back = await choose(colleague, atTax.page, entity.id);
    const claims = (await exchangeCode(tax, back.url, atTax.pending)).claims();
    t.like(claimOf(claims), { credit_code: entity.creditCode, role: 'agent' });
  });

  test('an expired authorisation and a deregistered entity cannot be chosen', async (t) => {
    const { colleague, entity } = await withColleague(t);
    await yitong.server.container.database.db
      .updateTable('memberships')
      .set({ valid_until: '2020-01-01' })
      .where('person_id', '=', colleague.sub)
      .execute();
    const expired = await visit(colleague, tax);
    t.regex(expired.page.html, /您的授权已到期/);
    t.is((await choose(colleague, expired.page, entity.id)).status, 403);

    const person = await citizen();
    const gone = await entityOf(person, '已注销公司');
    await service().setStatus(gone.creditCode, 'deregistered');
    const deregistered = await visit(person, tax);
    t.regex(deregistered.page.html, /单位已注销/);
    t.is((await choose(person, deregistered.page, gone.id)).status, 403);
  });

  test('revoking an authorisation takes effect on the next authorization request', async (t) => {
    const { representative, colleague, entity } = await withColleague(t);
    const first = await visit(colleague, tax);
    const back = await choose(colleague, first.page, entity.id);
    const tokens = await exchangeCode(tax, back.url, first.pending);
    t.truthy(claimOf(tokens.claims()));

    await service().revoke({ personId: representative.sub }, entity.creditCode, {
      idNumber: colleague.idNumber,
    });
    const next = await visit(colleague, tax);
    t.regex(next.page.html, /您还没有获得任何单位的授权/, 'asked again, with nothing to choose');
    const userinfo = await client.fetchUserInfo(tax.config, tokens.access_token, colleague.sub);
    t.is(userinfo.legal_person, undefined, 'released no more, even with an older token');
  });

  test('bad input changes nothing: malformed code, duplicate, unregistered number, last administrator, non-administrator', async (t) => {
    const person = await citizen();
    const stranger = await citizen();
    const entity = await entityOf(person);
    const fails = async (promise: Promise<unknown>, code: string, status: number) => {
      const error = await t.throwsAsync(promise);
      t.like(error, { code, status });
    };
    await fails(
      service().createByOperator({
        creditCode: '91350100M000100Y44',
        name: '坏代码',
        representativeIdNumber: person.idNumber,
      }),
      'credit_code.check',
      400,
    );
    await fails(
      service().createByOperator({
        creditCode: entity.creditCode,
        name: '第二个',
        representativeIdNumber: person.idNumber,
      }),
      'legal_person.exists',
      409,
    );
    await fails(
      service().register(
        (await yitong.server.container.accounts.findPerson(person.sub)) as Person,
        {
          creditCode: entity.creditCode.toLowerCase(),
          name: '第二个',
          type: 'enterprise',
          role: 'representative',
        },
        '127.0.0.1',
      ),
      'legal_person.exists',
      409,
    );
    await fails(
      service().grant({ personId: person.sub }, entity.creditCode, {
        idNumber: newCitizen().idNumber,
        role: 'agent',
      }),
      'legal_person.no_account',
      404,
    );
    await fails(
      service().revoke({ personId: person.sub }, entity.creditCode, { personId: person.sub }),
      'legal_person.representative',
      409,
    );
    await fails(
      service().grant({ personId: stranger.sub }, entity.creditCode, {
        idNumber: stranger.idNumber,
        role: 'administrator',
      }),
      'legal_person.not_found',
      404,
    );
    await fails(
      service().grant({ personId: person.sub }, entity.creditCode, {
        idNumber: stranger.idNumber,
        role: 'agent',
        clients: 'nope',
      }),
      'legal_person.unknown_client',
      400,
    );
    await fails(
      service().grant({ personId: person.sub }, entity.creditCode, {
        idNumber: stranger.idNumber,
        role: 'agent',
        until: '2020-02-30',
      }),
      'legal_person.until',
      400,
    );
    const { members } = await service().page(person.sub, entity.creditCode);
    t.deepEqual(
      members.map((m) => m.role),
      ['representative'],
      'nothing changed',
    );
    const rows = await yitong.server.container.database.db
      .selectFrom('legal_persons')
      .select('status')
      .where('credit_code', '=', entity.creditCode)
      .execute();
    t.deepEqual(
      rows.map((row) => row.status),
      ['active'],
      'never a second account',
    );
  });
}
