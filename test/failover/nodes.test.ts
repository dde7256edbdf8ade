/**
 * Several nodes, one province: two Yitong processes behind HAProxy share one SSO session, pick
 * up a key rotated anywhere within seconds, and survive a rolling restart without failing a
 * request; a node killed under load costs only the requests it held.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadConfig } from '../../src/config.ts';
import { type Container, createContainer } from '../../src/container.ts';
import { rotateSigningKeys } from '../../src/oidc/keys.ts';
import { Browser } from '../helpers/browser.ts';
import { load, sharedEnv, startCluster } from '../helpers/cluster.ts';
import { createPostgresDatabase, REDIS_URL, redisPrefix } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let operator: Container;
const teardowns: Array<() => Promise<void>> = [];
test.after.always(async () => {
  await operator?.close();
  for (const teardown of teardowns.reverse()) await teardown();
});

test.before(async () => {
  const postgres = await createPostgresDatabase();
  teardowns.push(postgres.drop);
  cluster = await startCluster((fn) => teardowns.push(fn), {
    nodes: 2,
    env: (issuer) =>
      sharedEnv(issuer, { DATABASE_URL: postgres.url, REDIS_URL, REDIS_PREFIX: redisPrefix() }),
  });
  // The operator's CLI, on the same storage.
  operator = await createContainer(loadConfig({ ...cluster.env, PORT: '1', DATA_DIR: tmpdir() }));
});

async function site(id: string, grantTypes = ['authorization_code']) {
  const file = join(tmpdir(), `${id}-${process.pid}.json`);
  await writeFile(
    file,
    JSON.stringify({
      client_id: id,
      client_name: id,
      department: '测试部门',
      region_code: '440100',
      redirect_uris: [REDIRECT_URI],
      grant_types: grantTypes,
      scope: 'openid profile',
    }),
  );
  const { generatedSecret = '' } = await operator.clients.add(file);
  return discoverSite(cluster.issuer, id, generatedSecret);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const kidOf = (jwt: string) =>
  (JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;

test.serial(
  'SSO begun on one node continues on the other; a key rotated anywhere to sign at once (--now) signs on every node within seconds',
  async (t) => {
    const [a, b] = [await site('node-a'), await site('node-b')];
    const person = newCitizen();
    await operator.accounts.register({ ...person, passwordConfirm: person.password });
    const browser = new Browser();
    // Round robin: every step of the flow goes to the other node than the one before.
    const first = await authorizationRequest(a, { scope: 'openid' });
    const walk = await walkAuthorization(browser, first.url, person);
    t.deepEqual(walk.pages, ['login', 'consent']);
    const tokens = await exchangeCode(a, walk.callbackUrl, first);
    const before = kidOf(tokens.id_token ?? '');
    const second = await authorizationRequest(b, { scope: 'openid' });
    const sso = await walkAuthorization(browser, second.url);
    t.deepEqual(sso.pages, ['consent'], 'no sign-in: the session is shared');
    t.is((await exchangeCode(b, sso.callbackUrl, second)).claims()?.sub, tokens.claims()?.sub);

    const kid =
      (await rotateSigningKeys(operator.database.db, operator.sealer, { delaySeconds: 0 })).added[0]?.kid ??
      '';
    t.not(kid, before);
    const started = Date.now();
    const signedWith = async () => {
      const pending = await authorizationRequest(a, { scope: 'openid' });
      const walked = await walkAuthorization(browser, pending.url);
      return kidOf((await exchangeCode(a, walked.callbackUrl, pending)).id_token ?? '');
    };
    // Both nodes: four flows in a row alternate between them.
    let kids: string[] = [];
    while (Date.now() - started < 5000) {
      kids = [await signedWith(), await signedWith(), await signedWith(), await signedWith()];
      if (kids.every((k) => k === kid)) break;
    }
    t.deepEqual(kids, [kid, kid, kid, kid]);
    t.log(`every node signed with the new key ${Date.now() - started} ms after the rotation`);
    for (const node of cluster.nodes) {
      const jwks = (await (await fetch(`${node.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      const kids = jwks.keys.map((key) => key.kid);
      t.true(kids.includes(before) && kids.includes(kid), 'the old key still verifies');
    }
  },
);

test.serial(
  'a secret rotated through one node works on every node at once; the old one during its grace',
  async (t) => {
    const rp = await site('rotating', ['client_credentials']);
    const old = (rp.config.clientMetadata() as { client_secret?: string }).client_secret ?? '';
    const rotated = await operator.clients.rotateSecret('rotating');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const node of cluster.nodes)
      for (const [label, secret] of [
        ['new', rotated?.secret ?? ''],
        ['old', old],
      ]) {
        const answer = await fetch(`${node.url}/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`rotating:${secret}`).toString('base64')}`,
          },
          body: 'grant_type=client_credentials',
        });
        t.is(answer.status, 200, `${label} secret at ${node.url}`);
      }
  },
);

test.serial(
  'a person locked anywhere (even by SQL) is refused on every node at once, though each keeps people in memory',
  async (t) => {
    const rp = await site('people-cache');
    const person = newCitizen();
    await operator.accounts.register({ ...person, passwordConfirm: person.password });
    const pending = await authorizationRequest(rp, { scope: 'openid profile' });
    const walk = await walkAuthorization(new Browser(), pending.url, person);
    const tokens = await exchangeCode(rp, walk.callbackUrl, pending);
    const sub = String(tokens.claims()?.sub);
    const path = new URL(String(rp.config.serverMetadata().userinfo_endpoint)).pathname;
    const userinfo = async (node: { url: string }) =>
      (await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${tokens.access_token}` } }))
        .status;
    // Each node has read the person (and keeps them).
    for (const node of cluster.nodes) t.deepEqual([await userinfo(node), await userinfo(node)], [200, 200]);

    /** How long until every node answers `status`: the change is heard through the database. */
    const everyNodeAnswers = async (status: number) => {
      const started = Date.now();
      while (Date.now() - started < 3000) {
        const answers = await Promise.all(cluster.nodes.map(userinfo));
        if (answers.every((answer) => answer === status)) return Date.now() - started;
        await pause(5);
      }
      return Infinity;
    };
    const db = operator.database.db;
    await db.updateTable('people').set({ status: 'locked' }).where('id', '=', sub).execute();
    const locked = await everyNodeAnswers(401);
    await db.updateTable('people').set({ status: 'active' }).where('id', '=', sub).execute();
    const unlocked = await everyNodeAnswers(200);
    t.log(
      `every node refused the token ${locked} ms after the lock, served it ${unlocked} ms after the unlock`,
    );
    t.true(locked < 1000 && unlocked < 1000);
  },
);

/** Discovery, JWKS and client credentials, over and over through the balancer. */
async function traffic() {
  const rp = await site(`load-${Date.now()}`, ['client_credentials']);
  const { clientId } = rp;
  const secret = (rp.config.clientMetadata() as { client_secret?: string }).client_secret ?? '';
  const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
  return load([
    () => fetch(`${cluster.issuer}/.well-known/openid-configuration`),
    () =>
      fetch(`${cluster.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: 'grant_type=client_credentials',
      }),
    () => fetch(`${cluster.issuer}/jwks`),
  ]);
}

test.serial('a rolling restart of both nodes under load fails no request', async (t) => {
  const running = await traffic();
  await pause(500);
  for (const node of cluster.nodes) {
    t.is(await node.stop('SIGTERM'), 0, 'drained and exited 0');
    await node.start();
    await pause(700); // the balancer sees it ready again
  }
  const counts = await running.stop();
  t.log(`${counts.ok} requests answered during the rolling restart, ${counts.failed} failed`);
  t.true(counts.ok > 100);
  t.deepEqual(counts.failures, []);
});

test.serial('kill -9 of a node under load costs only the requests it held', async (t) => {
  const running = await traffic();
  await pause(500);
  const [victim] = cluster.nodes;
  await victim?.stop('SIGKILL');
  const atKill = running.counts.ok;
  await pause(1500);
  const counts = await running.stop();
  t.log(
    `${counts.failed} failed of ${counts.ok + counts.failed}; ${counts.ok - atKill} answered after the kill`,
  );
  t.true(counts.failed <= 4, counts.failures.join('\n'));
  t.true(counts.ok - atKill > 50, 'the other node carries on');
  await victim?.start();
});
