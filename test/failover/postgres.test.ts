/**
 * PostgreSQL as a province runs it: a primary with a streaming standby behind HAProxy (which
 * routes to whichever is primary), the standby promoted under load; and twenty restarts of the
 * server under load. Only 503s, in a window measured here; never a 500, never a crash.
 */
import test from 'ava';
import * as client from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { load } from '../helpers/cluster.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { privatePostgres, privatePostgresPair } from '../helpers/servers.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const teardowns: Array<() => Promise<void>> = [];
test.after.always(async () => {
  for (const teardown of teardowns.reverse()) await teardown();
});

/** A site and a person's access token on `yitong`: UserInfo reads PostgreSQL and records the release there. */
async function userinfoTraffic(yitong: Yitong) {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '故障切换测试',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const person = newCitizen();
  await yitong.createCitizen(person);
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const walk = await walkAuthorization(new Browser(), pending.url, person);
  const { access_token } = await exchangeCode(site, walk.callbackUrl, pending);
  const statuses = new Map<number, number>();
  const errorsAt: number[] = [];
  const userinfo = () =>
    fetch(`${yitong.issuer}/me`, { headers: { authorization: `Bearer ${access_token}` } }).then(
      (response) => {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status !== 200) errorsAt.push(performance.now());
        return response;
      },
    );
  return { userinfo, statuses, errorsAt, running: load([userinfo], 4) };
}

test('the standby promoted under load: errors only inside the failover window, all 503', async (t) => {
  const pair = await privatePostgresPair((fn) => teardowns.push(fn));
  const yitong = await startYitong('pglite', { DATABASE_URL: pair.url });
  teardowns.push(() => yitong.stop());
  const traffic = await userinfoTraffic(yitong);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the token replicated to the standby
  const started = performance.now();
  await pair.failover();
  let back = 0;
  while (performance.now() - started < 20_000) {
    if ((await traffic.userinfo()).status === 200 && performance.now() - started > 200) {
      back = performance.now() - started;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const counts = await traffic.running.stop();
  t.log(
    `promotion: ${counts.ok} answered, ${JSON.stringify(Object.fromEntries(traffic.statuses))}; service back ${Math.round(back)} ms after the primary stopped`,
  );
  t.true(back > 0, 'service came back');
  t.false(traffic.statuses.has(500), 'never a 500');
  t.deepEqual(
    [...traffic.statuses.keys()].filter((status) => status !== 200 && status !== 503),
    [],
  );
  t.is(yitong.server.container.outages.isDown('database'), false);
});

test('twenty PostgreSQL restarts under load: no crash, no 500, back each time', async (t) => {
  const postgres = await privatePostgres((fn) => teardowns.push(fn));
  const yitong = await startYitong('pglite', { DATABASE_URL: postgres.url });
  teardowns.push(() => yitong.stop());
  const traffic = await userinfoTraffic(yitong);
  for (let restart = 0; restart < 20; restart++) {
    await postgres.stop('fast');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await postgres.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const counts = await traffic.running.stop();
  t.log(`20 restarts: ${counts.ok} answered, ${JSON.stringify(Object.fromEntries(traffic.statuses))}`);
  t.false(traffic.statuses.has(500), 'never a 500');
  t.deepEqual(
    [...traffic.statuses.keys()].filter((status) => status !== 200 && status !== 503),
    [],
  );
  t.is((await traffic.userinfo()).status, 200, 'back after the last restart');
  t.truthy(client, 'the relying party library stayed the same throughout');
});
