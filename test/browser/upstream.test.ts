/**
 * The sign-in page with upstream buttons in a real browser (Chromium): the national platform's
 * button is there, in both languages, on a phone and a desktop, without a serious axe violation;
 * when that platform cannot be reached, the page says so (not the person's fault) and leads back
 * to the sign-in page. Saved as screenshots for the README.
 */
import { rm } from 'node:fs/promises';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { axeProblems, launchChromium, newProfile, screenshots } from '../helpers/chromium.ts';
import { authorizationRequest, discoverSite, REDIRECT_URI } from '../helpers/rp.ts';
import { UNREACHABLE_NATIONAL, upstreamsDir } from '../helpers/upstream-manifest.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let yitong: Yitong;
let chromium: Browser;
let dir: string;
test.before(async () => {
  // Nobody answers there: the page for an unreachable upstream.
  dir = upstreamsDir({
    ...UNREACHABLE_NATIONAL,
    name: { 'zh-CN': '国家政务服务平台', en: 'the national government service platform' },
  });
  [yitong, chromium] = await Promise.all([startYitong('postgres'), launchChromium()]);
  await yitong.server.container.upstreamsStore.sync(dir, 'test');
});
test.after.always(async () => {
  await chromium?.close();
  await yitong?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the sign-in page offers the national platform; an unreachable one gets a clear page and the way back', async (t) => {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '社保查询',
    department: '省人力资源和社会保障厅',
    region_code: '440000',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const { context, page } = await newProfile(chromium);
  t.teardown(() => context.close());
  await page.goto((await authorizationRequest(site, { scope: 'openid profile' })).url);
  const button = page.getByRole('link', { name: '使用国家政务服务平台账号登录' });
  await button.waitFor();
  await screenshots(page, 'sign-in-upstreams');
  const problems = (await axeProblems(page)).map((problem) => `sign-in ${problem}`);
  await button.click();
  await page.getByText('暂时无法连接“国家政务服务平台”').waitFor();
  await screenshots(page, 'upstream-unreachable');
  problems.push(...(await axeProblems(page)).map((problem) => `unreachable ${problem}`));
  await page.getByRole('link', { name: '回到登录页面' }).click();
  await page.getByLabel('居民身份证号码').waitFor();
  t.deepEqual(problems, []);
});
