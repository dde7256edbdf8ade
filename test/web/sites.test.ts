/**
 * Connected sites: the page lists each site the person granted, with the claims it may receive;
 * revoking one ends its refresh tokens and delivers its back-channel logout; the other site keeps
 * working; another person's site or a missing CSRF token changes nothing.
 */
import test from 'ava';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { signInTo } from '../helpers/account.ts';
import { Browser, submit, submitConfirmed } from '../helpers/browser.ts';
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

test('revoking a site ends its refresh tokens and signs the person out there; the other site keeps working', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const endpoints = [await receiver(t.teardown, '/backchannel'), await receiver(t.teardown, '/backchannel')];
  const [logoutsA, logoutsB] = endpoints.map((endpoint) => endpoint.received);
  const sites = [];
  for (const [index, name] of ['站点甲', '站点乙'].entries()) {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: name,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile phone offline_access',
      backchannel_logout_uri: endpoints[index]?.url,
      backchannel_logout_session_required: true,
    });
    sites.push(await discoverSite(yitong.issuer, clientId, clientSecret));
  }
  const [siteA, siteB] = sites as [(typeof sites)[0], (typeof sites)[0]];
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  const browser = new Browser();
  const tokens = [];
  for (const [site, scope] of [
    [siteA, 'openid profile offline_access'],
    [siteB, 'openid phone offline_access'],
  ] as const) {
    const pending = await authorizationRequest(site, { scope, extra: { prompt: 'consent' } });
    const walk = await walkAuthorization(browser, pending.url, person);
    tokens.push(await exchangeCode(site, walk.callbackUrl, pending));
  }
  const [tokensA, tokensB] = tokens as [(typeof tokens)[0], (typeof tokens)[0]];

  const page = await signInTo(browser, yitong.issuer, person, '/account/sites');
  t.regex(page.html, /站点甲[\s\S]*站点乙|站点乙[\s\S]*站点甲/);
  t.regex(page.html, /可获取：账号标识（[^）]*）、姓名、性别、出生日期、实名等级/);
  t.is([...page.html.matchAll(/data-action="revoke-site"/g)].length, 2);

  // Abuse first: another person's page cannot revoke this person's site; no CSRF token, no change.
  const other = newCitizen();
  await yitong.createCitizen(other);
  const otherBrowser = new Browser();
  const otherPage = await signInTo(otherBrowser, yitong.issuer, other, '/account/sites');
  t.regex(otherPage.html, /您还没有授权任何网站/);
  const foreign = await otherBrowser.visit(`${yitong.issuer}/account/sites/${siteA.clientId}/revoke`, {
    form: { _csrf: page.html.match(/name="_csrf" value="([^"]+)"/)?.[1] ?? '' },
  });
  t.is(foreign.status, 403);
  const noCsrf = await browser.visit(`${yitong.issuer}/account/sites/${siteA.clientId}/revoke`, { form: {} });
  t.is(noCsrf.status, 403);
  // Rotated on use: the new refresh token is the one the revocation must end.
  const rotated = await client.refreshTokenGrant(siteA.config, tokensA.refresh_token as string);
  t.truthy(rotated.access_token, 'still working');

  const asked = await submit(browser, page, `/account/sites/${siteA.clientId}/revoke`);
  t.regex(asked.html, /撤销后，.*不能再获取您的信息/, 'asked first, naming the site');
  const revoked = await submitConfirmed(browser, page, `/account/sites/${siteA.clientId}/revoke`);
  t.regex(revoked.html, /已撤销对测试部门的“站点甲”的授权/, 'the notice names the site');
  const refused = await t.throwsAsync(
    client.refreshTokenGrant(siteA.config, rotated.refresh_token as string),
  );
  t.is((refused as client.ResponseBodyError).error, 'invalid_grant');
  t.is(logoutsA?.length, 1, 'site A got one back-channel logout');
  const { payload } = await jwtVerify(
    logoutsA?.[0]?.form.get('logout_token') ?? '',
    createRemoteJWKSet(new URL(`${yitong.issuer}/jwks`)),
    {
      issuer: yitong.issuer,
      audience: siteA.clientId,
    },
  );
  t.is(payload.sub, sub);
  t.truthy(payload.sid);
  t.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  t.deepEqual(logoutsB, [], 'site B was not signed out');
  t.truthy((await client.refreshTokenGrant(siteB.config, tokensB.refresh_token as string)).access_token);
  t.notRegex((await browser.visit(`${yitong.issuer}/account/sites`)).html, /站点甲/);
});

test('"sign out everywhere" from a second browser ends the first browser’s session and signs the person out at every site', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const backchannel = await receiver(t.teardown, '/bc');
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '站点丙',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid offline_access',
    backchannel_logout_uri: backchannel.url,
    backchannel_logout_session_required: true,
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const first = new Browser();
  const pending = await authorizationRequest(site, {
    scope: 'openid offline_access',
    extra: { prompt: 'consent' },
  });
  const tokens = await exchangeCode(
    site,
    (await walkAuthorization(first, pending.url, person)).callbackUrl,
    pending,
  );
  t.is((await first.visit(`${yitong.issuer}/account`)).status, 200);
  t.true((await client.tokenIntrospection(site.config, tokens.access_token)).active);

  const second = new Browser();
  await new Promise((resolve) => setTimeout(resolve, 1100)); // sign-in times have one-second resolution
  const sessions = await signInTo(second, yitong.issuer, person, '/account/sessions');
  const ended = await submitConfirmed(second, sessions, '/account/sign-out-everywhere');
  t.regex(ended.html, /已在所有设备上退出/);
  t.regex(
    (await first.visit(`${yitong.issuer}/account`)).html,
    /name="id_number"/,
    'the first browser must sign in again',
  );
  const refused = await t.throwsAsync(client.refreshTokenGrant(site.config, tokens.refresh_token as string));
  t.is((refused as client.ResponseBodyError).error, 'invalid_grant');
  t.is(backchannel.received.length, 1, 'the site was told');
  for (const token of [tokens.access_token, tokens.refresh_token as string])
    t.false(
      (await client.tokenIntrospection(site.config, token)).active,
      'its tokens introspect as inactive, though not revoked one by one',
    );
  await new Promise((resolve) => setTimeout(resolve, 1100)); // a sign-in in the second of the sign-out counts as before it
  const again = await authorizationRequest(site, { scope: 'openid offline_access' });
  t.deepEqual(
    (await walkAuthorization(first, again.url, person)).pages,
    ['login'],
    'a fresh sign-in, consent remembered',
  );
});

// Serial (first, alone): PGlite's start holds this process's event loop, and the other tests'
// back-channel receivers here must answer within the engine's 2.5 s.
test.serial(
  '"sign out everywhere" with a site that hangs: it is sent one logout, not one per session, and the other site is told',
  async (t) => {
    const yitong = await startYitong('pglite');
    t.teardown(() => yitong.stop());
    const hanging = await receiver(t.teardown, '/bc', { hang: true });
    const answering = await receiver(t.teardown, '/bc');
    const site = async (name: string, url: string) => {
      const { clientId, clientSecret } = await yitong.addClient({
        client_name: name,
        department: '测试部门',
        region_code: '440100',
        redirect_uris: [REDIRECT_URI],
        scope: 'openid',
        backchannel_logout_uri: url,
        backchannel_logout_session_required: true,
      });
      return discoverSite(yitong.issuer, clientId, clientSecret);
    };
    const [down, up] = [await site('站点丁', hanging.url), await site('站点戊', answering.url)];
    const person = newCitizen();
    const sub = await yitong.createCitizen(person);
    // Three browsers, three sessions at the site that is down; one at the other.
    for (const target of [down, down, down, up]) {
      const pending = await authorizationRequest(target, { scope: 'openid' });
      await walkAuthorization(new Browser(), pending.url, person);
    }
    await yitong.server.container.sites.signOutEverywhere(sub, '127.0.0.1');
    t.is(hanging.received.length, 1, 'once: each of the others would wait out its timeout too');
    t.is(answering.received.length, 1, 'the other site is told');
  },
);

test('"sign out everywhere" tells a site once per session it may still have, and once in all when its logouts name no session', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const [perSession, perPerson] = [await receiver(t.teardown, '/bc'), await receiver(t.teardown, '/bc')];
  const site = async (url: string, sessionRequired: boolean) => {
    const { clientId, clientSecret } = await yitong.addClient({
      client_name: sessionRequired ? '站点己' : '站点庚',
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      scope: 'openid',
      backchannel_logout_uri: url,
      backchannel_logout_session_required: sessionRequired,
    });
    return discoverSite(yitong.issuer, clientId, clientSecret);
  };
  const sites = [await site(perSession.url, true), await site(perPerson.url, false)];
  const person = newCitizen();
  const sub = await yitong.createCitizen(person);
  // Four browsers, each signed in to both sites.
  for (let i = 0; i < 4; i++) {
    const browser = new Browser();
    for (const target of sites)
      await walkAuthorization(browser, (await authorizationRequest(target, { scope: 'openid' })).url, person);
  }
  const { provider, sessions } = yitong.server.container;
  const held = await Promise.all((await sessions.uids(sub)).map((uid) => provider.Session.findByUid(uid)));
  t.is(held.length, 4);
  const [live, expired, ...loggedOut] = held;
  const sidOf = (session: typeof live) => session?.sidFor(sites[0]?.clientId ?? '');
  // One expires (nobody is told: the site's own session may live on); two end by a logout, which
  // told the sites then and ended their grants, as the engine's end_session does.
  await expired?.destroy();
  for (const session of loggedOut) {
    for (const target of sites)
      await (await provider.Grant.find(session?.grantIdFor(target.clientId) ?? ''))?.destroy();
    await session?.destroy();
  }

  await yitong.server.container.sites.signOutEverywhere(sub, '127.0.0.1');
  const claims = (received: typeof perSession.received) =>
    received.map((r) => decodeJwt(r.form.get('logout_token') ?? ''));
  t.deepEqual(
    claims(perSession.received)
      .map((c) => c.sid)
      .sort(),
    [sidOf(live), sidOf(expired)].sort(),
    'the live session and the expired one, not the two told at their logout',
  );
  t.deepEqual(
    claims(perPerson.received).map((c) => c.sid),
    [undefined],
    'one logout, for every session',
  );
  // Once more: the sign-ins it ended were told then; nothing is left to tell.
  await yitong.server.container.sites.signOutEverywhere(sub, '127.0.0.1');
  t.is(perSession.received.length, 2);
  t.is(perPerson.received.length, 1);
});
