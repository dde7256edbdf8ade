/**
 * Yitong on a real Redis Cluster (three masters, three replicas of Debian's redis-server): the
 * whole protocol works unchanged (every multi-key operation stays in one hash slot), and a
 * master killed under load costs only a short, measured window of 503s — never a 500; one that
 * hangs holds no command past four deadlines, and its promoted replica is followed. And through
 * Redis Sentinel, following its failover, whether the master is killed or hangs.
 */
import { execFileSync } from 'node:child_process';
import test from 'ava';
import * as client from 'openid-client';
import type { RedisClusterType } from 'redis';
import { parseRedis, type RedisTarget } from '../../src/config-services.ts';
import { isOutage } from '../../src/outage.ts';
import { connectRedis, type RedisClient } from '../../src/redis.ts';
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
import { type PrivateRedisCluster, privateRedisCluster, privateRedisSentinel } from '../helpers/servers.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

let cluster: PrivateRedisCluster;
let yitong: Yitong;
const teardowns: Array<() => Promise<void>> = [];
test.after.always(async () => {
  await yitong?.stop();
  for (const teardown of teardowns.reverse()) await teardown();
});
test.before(async () => {
  cluster = await privateRedisCluster((fn) => teardowns.push(fn));
  yitong = await startYitong('postgres', {
    REDIS_URL: '',
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    REDIS_COMMAND_TIMEOUT_MS: '800', // production's deadline: the failover's 503s and healing depend on it
  });
});

async function site(grantTypes: string[]) {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '集群测试',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: grantTypes,
    scope: 'openid profile offline_access',
  });
  return { ...(await discoverSite(yitong.issuer, clientId, clientSecret)), clientSecret };
}

test.serial(
  'the whole flow on a Redis Cluster: sign-in, SSO, tokens, refresh rotation, revocation, limits',
  async (t) => {
    const rp = await site(['authorization_code', 'refresh_token']);
    const person = newCitizen();
    await yitong.createCitizen(person);
    const browser = new Browser();
    const pending = await authorizationRequest(rp, {
      scope: 'openid profile offline_access',
      extra: { prompt: 'consent' },
    });
    const walk = await walkAuthorization(browser, pending.url, person);
    const tokens = await exchangeCode(rp, walk.callbackUrl, pending);
    t.is(
      (await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()?.sub ?? '')).name,
      person.name,
    );
    const again = await authorizationRequest(rp, { scope: 'openid' });
    t.deepEqual((await walkAuthorization(browser, again.url)).pages, [], 'SSO: no page at all');
    const refreshed = await client.refreshTokenGrant(rp.config, tokens.refresh_token ?? '');
    await t.throwsAsync(
      client.refreshTokenGrant(rp.config, tokens.refresh_token ?? ''),
      undefined,
      'rotated: the old one is spent',
    );
    await client.tokenRevocation(rp.config, refreshed.refresh_token ?? '');
    await t.throwsAsync(client.refreshTokenGrant(rp.config, refreshed.refresh_token ?? ''));
    const accounts = yitong.server.container.accounts;
    for (let i = 0; i < 5; i++)
      await accounts.authenticate(person.idNumber, 'wrong', '10.66.0.1').catch(() => {});
    await t.throwsAsync(accounts.authenticate(person.idNumber, person.password, '10.66.0.1'), {
      message: 'rate.account',
    });
  },
);

test.serial(
  'a master killed under load: 503s (never a 500) until the replica takes over, then every request answered',
  async (t) => {
    const rp = await site(['client_credentials']);
    const basic = `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`;
    const failures: number[] = [];
    const statuses = new Map<number, number>();
    const token = () =>
      fetch(`${yitong.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: 'grant_type=client_credentials',
      }).then((response) => {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status !== 200) failures.push(performance.now());
        return response;
      });
    const running = load([token], 4);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [victim] = await cluster.masters();
    const killedAt = performance.now();
    await cluster.kill(victim as number);
    await cluster.healthy();
    // Healed without a restart: node-redis finds the promoted replica; from then on, no refusal.
    let healedAt = 0;
    while (!healedAt && performance.now() - killedAt < 15_000) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => token().then((answer) => answer.status)),
      );
      if (answers.every((status) => status === 200)) healedAt = performance.now();
    }
    t.not(healedAt, 0, 'every request answered again within 15 s of the kill');
    const refusedBefore = failures.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const counts = await running.stop();
    t.is(failures.length, refusedBefore, 'no refusal once healed');
    const window = failures.length ? (failures.at(-1) as number) - killedAt : 0;
    t.log(
      `killed master :${victim}; ${counts.ok} answered, ${failures.length} refused (${JSON.stringify(Object.fromEntries(statuses))}); refusals for ${Math.round(window)} ms, all answered again ${Math.round(healedAt - killedAt)} ms after the kill`,
    );
    t.false(statuses.has(500), 'never a 500');
    t.deepEqual(
      [...statuses.keys()].filter((status) => status !== 200 && status !== 503),
      [],
    );
    t.is(counts.failures.filter((failure) => !failure.startsWith('503')).length, 0);
  },
);

test.serial('through Redis Sentinel: signs in, and follows the failover to the replica', async (t) => {
  const sentinel = await privateRedisSentinel((fn) => teardowns.push(fn));
  const guarded = await startYitong('postgres', {
    REDIS_URL: '',
    REDIS_SENTINELS: sentinel.sentinels,
    REDIS_SENTINEL_NAME: sentinel.name,
    REDIS_COMMAND_TIMEOUT_MS: '800', // production's deadline
  });
  teardowns.push(() => guarded.stop());
  const { clientId, clientSecret } = await guarded.addClient({
    client_name: '哨兵测试',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['client_credentials'],
    scope: 'openid',
  });
  const rp = await discoverSite(guarded.issuer, clientId, clientSecret);
  t.truthy((await client.clientCredentialsGrant(rp.config)).access_token);
  await sentinel.killMaster();
  const started = performance.now();
  let status = 0;
  while (performance.now() - started < 15_000) {
    status = await client.clientCredentialsGrant(rp.config).then(
      () => 200,
      (error: client.ResponseBodyError) => error.status ?? 0,
    );
    t.not(status, 500);
    if (status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.is(status, 200);
  t.log(`tokens issued again ${Math.round(performance.now() - started)} ms after the master was killed`);
});

/**
 * Stops (SIGSTOP) a master with a replica, holding some of 30 fresh keys, resuming it after 15 s
 * whatever happens, so that a command held until then fails the test, not hangs it.
 */
async function hangMaster(redis: RedisClient, name: string) {
  const keys = Array.from({ length: 30 }, (_, i) => `{${name}${i}}:x`);
  for (const key of keys) await redis.set(key, '1');
  // One with a replica to promote: the master the kill test promoted has none.
  const victim = (await cluster.masters()).find((port) =>
    /connected_slaves:[1-9]/.test(
      execFileSync('redis-cli', ['-p', String(port), 'info', 'replication']).toString(),
    ),
  );
  const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(victim), ...args]).toString();
  const held = keys.filter((key) => cli('get', key).trim() === '1');
  const pid = Number(/process_id:(\d+)/.exec(cli('info', 'server'))?.[1]);
  process.kill(pid, 'SIGSTOP');
  const started = performance.now();
  let resumed = false;
  const resume = () => {
    clearTimeout(timer);
    resumed = true;
    process.kill(pid, 'SIGCONT');
  };
  const timer = setTimeout(resume, 15_000);
  return {
    held: held[0] as string,
    elsewhere: keys.filter((key) => !held.includes(key)),
    started,
    /** Asks for the held key until it answers; answered by the promoted replica if the master was still stopped. */
    async untilAnswered() {
      let failures = 0;
      let value: string | null = null;
      while (value === null && !resumed)
        value = await redis.get(held[0] as string).catch(async () => {
          failures++;
          await new Promise((resolve) => setTimeout(resolve, 50)); // a refusal at once: no spinning
          return null;
        });
      return { value, after: performance.now() - started, failures, byReplica: !resumed };
    },
    async resume() {
      resume();
      await cluster.healthy();
    },
  };
}

test.serial(
  'a cluster master that hangs (SIGSTOP) while the others answer: its commands fail within four deadlines, never held; the other keys go on; its replica, once promoted, answers for it',
  async (t) => {
    const redis = await connectRedis({ kind: 'cluster', nodes: cluster.nodes }, { commandTimeoutMs: 800 });
    t.teardown(() => redis.destroy());
    const hung = await hangMaster(redis, 'hang');
    let answered = 0;
    let stop = false;
    const others = (async () => {
      for (let i = 0; !stop; i++) {
        await redis.get(hung.elsewhere[i % hung.elsewhere.length] as string).then(
          () => answered++,
          () => {},
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const error = await t.throwsAsync(redis.get(hung.held));
    const waited = performance.now() - hung.started;
    // The master stays stopped: its keys answer again once its replica is promoted.
    const { value, after, failures, byReplica } = await hung.untilAnswered();
    stop = true;
    await others;
    await hung.resume();
    t.log(
      `the hung master's command failed after ${Math.round(waited)} ms; ${answered} answered elsewhere meanwhile; its key answered again ${Math.round(after)} ms after the stop, ${failures} more failures before`,
    );
    t.true(isOutage(error), 'answered 503');
    t.true(waited < 5000, `failed after ${Math.round(waited)} ms`);
    t.true(answered > 100, 'the other masters went on');
    t.true(byReplica, 'answered while the master was still stopped');
    t.is(value, '1');
  },
);

test.serial(
  'a cluster master that hangs on a quiet node (its keys the only ones asked for): its replica is followed too',
  async (t) => {
    const redis = await connectRedis({ kind: 'cluster', nodes: cluster.nodes }, { commandTimeoutMs: 800 });
    t.teardown(() => redis.destroy());
    const hung = await hangMaster(redis, 'quiet');
    const { value, after, failures, byReplica } = await hung.untilAnswered();
    await hung.resume();
    t.log(`its key answered again ${Math.round(after)} ms after the stop, ${failures} failures before`);
    t.true(byReplica, 'answered while the master was still stopped');
    t.is(value, '1');
  },
);

test.serial(
  'two cluster masters lost at once, one hung and one killed: both promoted replicas are followed',
  async (t) => {
    // Five masters: two lost leave a majority to vote both replicas in.
    const five = await privateRedisCluster((fn) => teardowns.push(fn), 5);
    const redis = await connectRedis({ kind: 'cluster', nodes: five.nodes }, { commandTimeoutMs: 800 });
    t.teardown(() => redis.destroy());
    // As the client's slot map has them: just after the cluster formed, a node's own view may lag.
    const [hung, killed] = (redis as unknown as RedisClusterType).masters.map((node) => node.port) as [
      number,
      number,
    ];
    const cli = (port: number, ...args: string[]) =>
      execFileSync('redis-cli', ['-p', String(port), ...args]).toString();
    const keys = Array.from({ length: 60 }, (_, i) => `{two${i}}:x`);
    for (const key of keys) await redis.set(key, '1');
    const on = (port: number) => keys.find((key) => cli(port, 'get', key).trim() === '1') as string;
    const lost = [on(hung), on(killed)];
    // Written on each master and acknowledged by its replica, so the promoted one has it.
    for (const [port, key] of [
      [hung, lost[0]],
      [killed, lost[1]],
    ] as const)
      execFileSync('redis-cli', ['-p', String(port)], { input: `set ${key} 1\nwait 1 5000\n` });
    const pidOf = (port: number) => Number(/process_id:(\d+)/.exec(cli(port, 'info', 'server'))?.[1]);
    const [stopped, gone] = [pidOf(hung), pidOf(killed)];
    // At the same moment, and nothing asked of the stopped one after (it would never answer).
    process.kill(stopped, 'SIGSTOP');
    process.kill(gone, 'SIGKILL');
    t.teardown(() => process.kill(stopped, 'SIGCONT'));
    const started = performance.now();
    const answered = new Map<string, number>();
    while (answered.size < 2 && performance.now() - started < 15_000) {
      for (const key of lost)
        if (!answered.has(key) && (await redis.get(key).catch(() => null)) === '1')
          answered.set(key, Math.round(performance.now() - started));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.log(
      `answered again ${answered.get(lost[0] as string)} ms (the hung master's key) and ${answered.get(lost[1] as string)} ms (the killed one's) after the stop`,
    );
    t.is(answered.size, 2, 'both keys answered while one master was still stopped');
  },
);

test.serial(
  'through Redis Sentinel, a master that hangs (SIGSTOP): no command waits past the deadline, and the promoted replica answers',
  async (t) => {
    const sentinel = await privateRedisSentinel((fn) => teardowns.push(fn));
    const target = parseRedis({ REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name });
    const redis = await connectRedis(target as RedisTarget, { commandTimeoutMs: 800 });
    t.teardown(() => redis.destroy());
    // Written on the master and acknowledged by its replica before the master stops.
    execFileSync('redis-cli', ['-p', String(sentinel.masterPort)], {
      input: 'set {hung}:x 1\nwait 1 5000\n',
    });
    const resume = sentinel.hangMaster();
    t.teardown(resume);
    const started = performance.now();
    let value: string | null = null;
    let slowest = 0;
    while (value === null && performance.now() - started < 15_000) {
      const sent = performance.now();
      value = await redis.get('{hung}:x').catch(() => null);
      slowest = Math.max(slowest, performance.now() - sent);
      if (value === null) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.log(
      `answered again ${Math.round(performance.now() - started)} ms after the stop; the slowest command ${Math.round(slowest)} ms`,
    );
    t.is(value, '1');
    t.true(slowest < 1500, `a command waited ${Math.round(slowest)} ms`);
  },
);
