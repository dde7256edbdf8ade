/**
 * Verified data in a real browser (Chromium): a site asks for two verified items and a sensitive
 * one with its service item and purpose; the consent page lists each with its source and date and
 * the purpose; the person unticks one by keyboard, and the site (openid-client) receives exactly
 * the rest. Then 我的证照与数据 shows where each item went and sends "this is wrong". Each page
 * has no serious axe violation, in zh-CN and en, on a phone and a desktop, and is saved as a
 * screenshot.
 */
import test from 'ava';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import {
  axeProblems,
  launchChromium,
  newProfile,
  screenshots,
  signInWithPassword,
} from '../helpers/chromium.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let chromium: Browser;
test.before(async () => {
  [yitong, chromium] = await Promise.all([startYitong('postgres'), launchChromium()]);
});
test.after.always(async () => {
  await chromium?.close();
  await yitong?.stop();
});

const SERVICE_ITEM = '11440000006940026X4000110003000';

async function publish(clientId: string, department: string, idNumber: string, type: string, value: object) {
  await yitong.server.container.sources.publish(
    { clientId, department, regionCode: '440000', publishes: new Set([type]) },
    {
      holder: { id_number: idNumber },
      type,
      value,
      verified_at: '2026-12-01T09:00:00+08:00',
      evidence: { type: 'electronic_record' },
    },
    '127.0.0.1',
  );
}

async function axeBothLanguages(page: Page, label: string) {
  const problems: string[] = [];
  for (const lang of ['en', 'zh-CN']) {
    const url = new URL(page.url());
    url.searchParams.set('lang', lang);
    await page.goto(url.href);
    problems.push(...(await axeProblems(page)).map((problem) => `${label} (${lang}) ${problem}`));
  }
  return problems;
}

test('consent item by item with the purpose shown; the site receives exactly what was ticked; 我的证照与数据 shows where it went', async (t) => {
  const person = newCitizen('440106');
  await yitong.createCitizen(person);
  const { container } = yitong.server;
  for (const [clientId, department, type] of [
    ['src-hrss', '省人力资源和社会保障厅', 'social_insurance'],
    ['src-edu', '省教育厅', 'education'],
    ['src-police', '省公安厅', 'household_registration'],
  ] as const)
    await yitong.addClient({
      client_id: clientId,
      client_name: `${department}数据接口`,
      department,
      region_code: '440000',
      grant_types: ['client_credentials'],
      publishes: [type],
    });
  await publish('src-hrss', '省人力资源和社会保障厅', person.idNumber, 'social_insurance', {
    insurances: ['养老保险', '医疗保险'],
    insured_in: '440106',
    since: '2012-07-01',
  });
  await publish('src-edu', '省教育厅', person.idNumber, 'education', {
    level: '本科',
    institution: '中山大学',
    graduated_on: '2015-06-30',
  });
  await publish('src-police', '省公安厅', person.idNumber, 'household_registration', {
    address: '广州市越秀区府前路1号',
    relation_to_head: '户主',
  });
  const scope = 'openid verified:social_insurance verified:education verified:household_registration';
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '户口迁入网上办',
    department: '广州市公安局',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope,
    service_items: [{ code: SERVICE_ITEM, name: '户口迁入' }],
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());

  const pending = await authorizationRequest(site, {
    scope,
    extra: {
      authorization_details: JSON.stringify([
        { type: 'yitong_service_item', service_item: SERVICE_ITEM, purpose: '核对户籍地址和参保情况' },
      ]),
    },
  });
  await page.goto(pending.url);
  await signInWithPassword(page, person);
  await page.getByRole('button', { name: '同意并继续' }).waitFor();
  const main = await page.locator('main').innerText();
  t.regex(main, /办理事项：户口迁入（11440000006940026X4000110003000）。用途：核对户籍地址和参保情况/);
  t.regex(main, /社会保险参保\s+省人力资源和社会保障厅核验于 2026-12-01/);
  t.regex(main, /户籍登记（敏感）/);
  await screenshots(page, 'consent-items');
  const problems = await axeBothLanguages(page, 'consent');
  // Untick education by keyboard: Tab to it, Space.
  const education = page.getByLabel('学历');
  await education.focus();
  await page.keyboard.press('Space');
  t.false(await education.isChecked());
  await page.getByRole('button', { name: '同意并继续' }).click();
  await page.waitForURL(`${REDIRECT_URI}**`);
  const tokens = await exchangeCode(site, page.url(), pending);
  const userinfo = await client.fetchUserInfo(site.config, tokens.access_token, tokens.claims()?.sub ?? '');
  const released = (userinfo.verified_claims as Array<{ claims: object }>).map((e) => Object.keys(e.claims));
  t.deepEqual(released.flat().sort(), ['household_registration', 'social_insurance']);

  await page.goto(`${yitong.issuer}/account/data`);
  const data = await page.locator('main').innerText();
  t.regex(data, /已提供给：户口迁入网上办/);
  t.regex(data, /还没有提供给任何网站/, 'education was declined');
  const insurance = page.locator('#data-social_insurance');
  await insurance.getByText('信息有误').click();
  await insurance.getByLabel('哪里不对？我们会转给省人力资源和社会保障厅').fill('参保地应为天河区');
  await insurance.getByRole('button', { name: '发送更正申请' }).click();
  await page.getByText('更正申请已发送给省人力资源和社会保障厅').waitFor();
  await screenshots(page, 'my-page-data-sent');
  problems.push(...(await axeBothLanguages(page, '/account/data')));
  t.deepEqual(problems, []);
  t.is((await container.attributesRepo.openCorrections('src-hrss')).length, 1);
});
