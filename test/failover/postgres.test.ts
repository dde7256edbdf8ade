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
  const waits = { longest: 0, overASecond: 0, pending: new Set<number>() };
  /** The longest any request has waited so far, answered or not. */
  const longestWait = () =>
    Math.max(waits.longest, ...[...waits.pending].map((at) => performance.now() - at));
  const userinfo = () => {
    const started = performance.now();
    waits.pending.add(started);
    return fetch(`${yitong.issuer}/me`, { headers: { authorization: `Bearer ${access_token}` } }).then(
      (response) => {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status !== 200) errorsAt.push(performance.now());
        waits.pending.delete(started);
        waits.longest = Math.max(waits.longest, performance.now() - started);
        if (performance.now() - started > 1000) waits.overASecond++;
        return response;
      },
    );
  };
  return { userinfo, statuses, errorsAt, longestWait, waits, running: load([userinfo], 4) };
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

test('a hung PostgreSQL under load: every request answered 503 within 4 s (not the 11 s query timeout); back as soon as it resumes', async (t) => {
  const postgres = await privatePostgres((fn) => teardowns.push(fn));
  // Production's connection timeout: it bounds how long a server that stopped answering is given.
  const yitong = await startYitong('pglite', {
    DATABASE_URL: postgres.url,
    DATABASE_CONNECT_TIMEOUT_MS: '2000',
  });
  teardowns.push(() => yitong.stop());
  const traffic = await userinfoTraffic(yitong);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await postgres.pause(); // its processes stopped: connections stay open, nothing is answered
  await new Promise((resolve) => setTimeout(resolve, 8000));
  const hung = {
    statuses: Object.fromEntries(traffic.statuses),
    slowest: traffic.longestWait(),
    overASecond: traffic.waits.overASecond,
  };
  await postgres.resume();
  const resumed = performance.now();
  let back = 0;
  while (performance.now() - resumed < 10_000) {
    if ((await traffic.userinfo()).status === 200) {
      back = performance.now() - resumed;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const counts = await traffic.running.stop();
  t.log(
    `hung 8 s: ${JSON.stringify(hung.statuses)}, slowest ${Math.round(hung.slowest)} ms, ${hung.overASecond} over 1 s; back ${Math.round(back)} ms after resuming; ${counts.ok} answered in all`,
  );
  t.true(hung.slowest < 4000, `slowest answer during the hang: ${Math.round(hung.slowest)} ms`);
  t.true((hung.statuses[503] ?? 0) > 10, 'the hang was answered 503');
  t.deepEqual(
    [...traffic.statuses.keys()].filter((status) => status !== 200 && status !== 503),
    [],
  );
  t.true(back > 0 && back < 3000, `back ${Math.round(back)} ms after resuming`);
});
