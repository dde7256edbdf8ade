/**
 * Where am I signed in: the sessions page lists each browser with its device, place and the sites
 * it covers; ending one signs that browser out, ends the refresh tokens of the sites it covers and
 * delivers their back-channel logout, and leaves the other browser signed in. Another person's
 * session id, a missing CSRF token or a malformed id change nothing.
 */
import test from 'ava';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { signInTo } from '../helpers/account.ts';
import { Browser, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { receiver } from '../helpers/receiver.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong } from '../helpers/yitong.ts';

const PHONE =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const DESKTOP =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86';

/** Each listed session: its id, and the text of its entry. */
const sessionsOf = (html: string) =>
  [...html.matchAll(/<li>([\s\S]*?)\/account\/sessions\/([\w-]+)\/end[\s\S]*?<\/li>/g)].map((m) => ({
    uid: m[2] as string,
    text: m[1] as string,
  }));

for (const backend of ['postgres', 'pglite'] as const) {
  // The PGlite one serially (first, alone): its start holds this process's event loop, and the
  // other's back-channel receiver must answer within the engine's 2.5 s.
  (backend === 'pglite' ? test.serial : test)(
    `${backend}: the page lists each session; ending one signs that browser out and tells its sites`,
    async (t) => {
      const yitong = await startYitong(backend);
      t.teardown(() => yitong.stop());
      const backchannel = await receiver(t.teardown, '/bc');
      const logouts = backchannel.received;
      const { clientId, clientSecret } = await yitong.addClient({
        client_name: '社保网站',
        department: '人社厅',
        region_code: '440100',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'openid offline_access',
        backchannel_logout_uri: backchannel.url,
        backchannel_logout_session_required: true,
      });
      const site = await discoverSite(yitong.issuer, clientId, clientSecret);
      const person = newCitizen();
      const sub = await yitong.createCitizen(person);

      const phone = new Browser(PHONE);
      const pending = await authorizationRequest(site, {
        scope: 'openid offline_access',
        extra: { prompt: 'consent' },
      });
      const tokens = await exchangeCode(
        site,
        (await walkAuthorization(phone, pending.url, person)).callbackUrl,
        pending,
      );
      await t.throwsAsync(
        yitong.server.container.accounts.authenticate(person.idNumber, 'not it', '203.0.113.7'),
      );
      const desktop = new Browser(DESKTOP);
      const page = await signInTo(desktop, yitong.issuer, person, '/account/sessions');
      // Recent activity: the sign-ins and the failed attempt, with the place but never the full address.
      t.regex(page.html, /登录成功：一通个人中心[\s\S]*失败的登录尝试（密码）[\s\S]*登录成功：社保网站/);
      t.regex(page.html, /地区未知 · 203\.0\.113\.\*/);
      t.notRegex(page.html, /203\.0\.113\.7/);
      const listed = sessionsOf(page.html);
      t.is(listed.length, 2, page.html);
      const [here, there] = [
        listed.find((s) => s.text.includes('当前设备')),
        listed.find((s) => !s.text.includes('当前设备')),
      ];
      t.regex(here?.text ?? '', /Edge 131 · Windows/);
      t.regex(there?.text ?? '', /Chrome 131 · Android/);
      t.regex(there?.text ?? '', /内部网络 · 127\.0\.0\.\*/);
      t.regex(there?.text ?? '', /已登录的网站：社保网站/);
      t.regex(there?.text ?? '', /登录于 \d{4}-\d\d-\d\d \d\d:\d\d · 最近活动/);
      t.regex(here?.text ?? '', /尚未登录部门网站/, 'our own account page is not listed as a site');
      t.regex(page.html, /data-action="sign-out-everywhere"/);
      const phoneUid = there?.uid ?? '';

      // Abuse: another person's session id, a missing CSRF token, a malformed id: 403, nothing changes.
      const other = newCitizen();
      await yitong.createCitizen(other);
      const intruder = new Browser();
      const otherPage = await signInTo(intruder, yitong.issuer, other, '/account/sessions');
      t.is(sessionsOf(otherPage.html).length, 1, 'only their own session');
      const foreign = await intruder.visit(`${yitong.issuer}/account/sessions/${phoneUid}/end`, {
        form: { _csrf: otherPage.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
      });
      t.is(foreign.status, 403);
      t.regex(foreign.html, /这不是您的登录/);
      t.is(
        (await desktop.visit(`${yitong.issuer}/account/sessions/${phoneUid}/end`, { form: {} })).status,
        403,
      );
      const malformed = await desktop.visit(`${yitong.issuer}/account/sessions/${'x'.repeat(65)}/end`, {
        form: { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
      });
      t.is(malformed.status, 403);
      t.notRegex(
        (await phone.visit(`${yitong.issuer}/account`)).html,
        /name="id_number"/,
        'the phone is still signed in',
      );
      const rotated = await client.refreshTokenGrant(site.config, tokens.refresh_token as string);
      t.truthy(rotated.access_token);
      t.is(logouts.length, 0);

      // A request under way on the phone when the session ends saves it again: it must stay ended.
      const inFlight = await yitong.server.container.provider.Session.findByUid(phoneUid);
      if (!inFlight) return t.fail('the phone has no session');
      const ended = await submit(desktop, page, `/account/sessions/${phoneUid}/end`);
      await inFlight.save(3600);
      t.regex(ended.html, /该设备上的登录已结束/);
      t.is(sessionsOf(ended.html).length, 1, 'the desktop is left');
      t.regex(
        (await phone.visit(`${yitong.issuer}/account`)).html,
        /name="id_number"/,
        'the phone must sign in again',
      );
      const hop = await authorizationRequest(site, { scope: 'openid' });
      t.regex((await phone.visit(hop.url)).html, /name="id_number"/, 'and sites ask it to sign in');
      const listsPhone = async () =>
        sessionsOf((await desktop.visit(`${yitong.issuer}/account/sessions`)).html).some(
          (listed) => listed.uid === phoneUid,
        );
      t.false(await listsPhone());
      // Signing in again on the phone counts (the provider keeps the session's uid), from the
      // next second on: sign-in times are whole seconds, and one in the second of the end is ended.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const again = await walkAuthorization(phone, hop.url, person);
      t.deepEqual(again.pages, ['login']);
      t.regex(again.callbackUrl, /[?&]code=/);
      // The sign-in is recorded as the answer leaves, not before it ('authorization.success' in
      // container.ts): under a loaded machine the list may lag the redirect by a moment.
      let phoneListed = await listsPhone();
      for (let tries = 0; !phoneListed && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        phoneListed = await listsPhone();
      }
      t.true(phoneListed, 'listed again within 5 s');
      const refused = await t.throwsAsync(
        client.refreshTokenGrant(site.config, rotated.refresh_token as string),
      );
      t.is((refused as client.ResponseBodyError).error, 'invalid_grant');
      t.is(logouts.length, 1, 'the site was told');
      t.like(decodeJwt(logouts[0]?.form.get('logout_token') ?? ''), { sub, aud: clientId });
      const audit = await yitong.server.container.database.db
        .selectFrom('audit_events')
        .select(['actor', 'details'])
        .where('action', '=', 'session.ended')
        .execute();
      t.deepEqual(audit, [{ actor: sub, details: { clients: [clientId] } }]);

      // A record closed while its session lives (a look-up that failed) opens again on the next use.
      await yitong.server.container.sessions.close(sub, [here?.uid ?? '']);
      t.true(
        sessionsOf((await desktop.visit(`${yitong.issuer}/account/sessions`)).html).some(
          (listed) => listed.uid === here?.uid,
        ),
      );

      // Ending the session in hand is signing out here.
      const last = await submit(desktop, ended, '/account/sessions/');
      t.regex(last.html, /您在本设备上的登录已结束/);
      t.regex((await desktop.visit(`${yitong.issuer}/account`)).html, /name="id_number"/);
    },
  );
}

test('a session lives 12 hours from its sign-in, however often it is used', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '社保网站',
    department: '人社厅',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  await walkAuthorization(browser, (await authorizationRequest(site, { scope: 'openid' })).url, person);
  const { Session } = yitong.server.container.provider;
  const id = browser.cookies.get('_session')?.value ?? '';
  const session = await Session.find(id);
  if (!session) return t.fail('no session');
  const now = Math.floor(Date.now() / 1000);
  session.loginTs = now - (12 * 3600 - 120); // signed in 11 h 58 min ago
  await session.save(3600);

  const hop = await walkAuthorization(browser, (await authorizationRequest(site, { scope: 'openid' })).url);
  t.deepEqual(hop.pages, [], 'still signed in: one more hop');
  const left = ((await Session.find(id))?.exp ?? Number.POSITIVE_INFINITY) - now;
  t.true(left <= 122, `saved again by the hop, it has ${left} s left, not another 12 hours`);
});
