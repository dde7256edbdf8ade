/**
 * A lost dependency is an outage, never a bug: on private PostgreSQL and Redis servers that the
 * tests stop and start, the process never crashes, every request that needs the lost one is
 * answered 503 within a second, and service comes back on its own.
 */
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.ts';
import { createOutages, isOutage } from '../../src/outage.ts';
import { connectRedis } from '../../src/redis.ts';
import { signInTo } from '../helpers/account.ts';
import { Browser } from '../helpers/browser.ts';
import { REDIS_URL, silencingProxy } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import {
  type PrivatePostgres,
  type PrivateRedis,
  privatePostgres,
  privateRedis,
} from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';
import { freePort, startYitong, type Yitong } from '../helpers/yitong.ts';

const redisConfig = (...args: string[]) =>
  execFileSync('redis-cli', ['-p', String(redis.port), 'config', 'set', ...args]);

const timed = async (request: Promise<Response>) => {
  const started = performance.now();
  const response = await request;
  return { response, ms: performance.now() - started, text: await response.text() };
};

/** Polls `ok` every 50 ms until it holds; returns how long that took (throws after `limitMs`). */
async function recovery(ok: () => Promise<boolean>, limitMs = 5000): Promise<number> {
  const started = performance.now();
  let last: unknown;
  while (performance.now() - started < limitMs) {
    const done = await ok().catch((error: unknown) => {
      last = error;
      return false;
    });
    if (done) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not back within ${limitMs} ms`, { cause: last });
}

test.serial('a transaction interrupted by a PostgreSQL stop fails, and the process lives on', async (t) => {
  const postgres = await privatePostgres(t.teardown);
  const database = await openDatabase({ databaseUrl: postgres.url, poolSize: 2, connectTimeoutMs: 30_000 });
  t.teardown(() => database.close());
  let stopped = () => {};
  const afterStop = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const transaction = database.db.transaction().execute(async (trx) => {
    await sql`SELECT 1`.execute(trx);
    await afterStop;
    await sql`SELECT 2`.execute(trx);
  });
  const idle = new pg.Client({ connectionString: postgres.url });
  await idle.connect();
  idle.on('error', () => {});
  await new Promise((resolve) => setTimeout(resolve, 300));
  await postgres.stop('fast');
  stopped();
  await t.throwsAsync(transaction);
  await postgres.start();
  // Same process, same pool: it connects anew.
  t.is(process.exitCode, undefined);
  t.is(
    (await recovery(
      async () => (await sql<{ n: number }>`SELECT 1 AS n`.execute(database.db)).rows[0]?.n === 1,
    )) < 5000,
    true,
  );
  await idle.end().catch(() => {});
});

let postgres: PrivatePostgres;
let redis: PrivateRedis;
let yitong: Yitong;
let site: Awaited<ReturnType<typeof discoverSite>>;
let accessToken: string;
let basic: string;
let browser: Browser;
let person: ReturnType<typeof newCitizen>;
const teardowns: Array<() => Promise<void>> = [];

test.after.always(async () => {
  await yitong?.stop();
  for (const teardown of teardowns.reverse()) await teardown();
});

test.before(async () => {
  postgres = await privatePostgres((fn) => teardowns.push(fn));
  redis = await privateRedis((fn) => teardowns.push(fn));
  // The embedded backend's clean-up only, with a private PostgreSQL and Redis to stop and start.
  yitong = await startYitong('pglite', {
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '800', // production's deadline, which these tests measure
  });
  const registered = await yitong.addClient({
    client_name: '测试网站',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'client_credentials'],
    scope: 'openid profile',
  });
  site = await discoverSite(yitong.issuer, registered.clientId, registered.clientSecret);
  basic = `Basic ${Buffer.from(`${registered.clientId}:${registered.clientSecret}`).toString('base64')}`;
  person = newCitizen();
  await yitong.createCitizen(person);
  await signIn();
});

/** Signs in anew (Redis keeps nothing across its restart: sessions and tokens go with it). */
async function signIn() {
  browser = new Browser();
  await signInTo(browser, yitong.issuer, person);
  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const walk = await walkAuthorization(browser, pending.url, person);
  accessToken = (await exchangeCode(site, walk.callbackUrl, pending)).access_token;
}

/** The four requests of the finding: the token endpoint, UserInfo, /auth and a page. */
function requests() {
  return {
    token: () =>
      fetch(`${yitong.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: 'grant_type=client_credentials',
      }),
    userinfo: () => fetch(`${yitong.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } }),
    auth: () =>
      fetch(
        `${yitong.issuer}/auth?client_id=${site.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
        {
          headers: { accept: 'text/html', cookie: browser.cookieHeader(new URL(yitong.issuer)) },
          redirect: 'manual',
        },
      ),
    page: () =>
      fetch(`${yitong.issuer}/account`, {
        headers: { accept: 'text/html', cookie: browser.cookieHeader(new URL(yitong.issuer)) },
        redirect: 'manual',
      }),
  };
}

test.serial(
  'Redis stopped: token, UserInfo, /auth and a page answer 503 within a second; back within 2 s of its return',
  async (t) => {
    const calls = requests();
    await redis.stop();
    for (const [name, call] of Object.entries(calls)) {
      const { response, ms, text } = await timed(call());
      t.is(response.status, 503, `${name}: ${text.slice(0, 200)}`);
      t.true(ms < 1000, `${name} answered in ${Math.round(ms)} ms`);
      t.is(response.headers.get('retry-after'), '5', name);
      if (name === 'token' || name === 'userinfo')
        t.like(JSON.parse(text), { error: 'temporarily_unavailable' });
      else t.regex(text, /服务暂时不可用[\s\S]*不是您正在办理业务的网站的问题/, name);
    }
    const ready = await timed(fetch(`${yitong.issuer}/readyz`));
    t.is(ready.response.status, 503);
    t.true(ready.ms < 1000, `/readyz in ${Math.round(ready.ms)} ms`);
    t.like(JSON.parse(ready.text), { checks: { redis: 'unreachable', database: 'ok', migrations: 'ok' } });

    await redis.start();
    const back = await recovery(async () => (await calls.token()).status === 200);
    t.true(back < 2000, `service back ${Math.round(back)} ms after Redis`);
    t.true((await calls.page()).status < 500, 'the page asks to sign in again (the session went with Redis)');
  },
);

test.serial(
  'Redis hung (stopped, connections open): token and UserInfo answer 503 within 1.5 s, a new visitor the page without a cookie; back at once when it resumes',
  async (t) => {
    await signIn();
    const calls = requests();
    redis.pause();
    t.teardown(() => redis.resume());
    for (const name of ['token', 'userinfo'] as const) {
      const { response, ms, text } = await timed(calls[name]());
      t.is(response.status, 503, `${name}: ${text.slice(0, 200)}`);
      t.true(ms < 1500, `${name} answered in ${Math.round(ms)} ms`);
      t.like(JSON.parse(text), { error: 'temporarily_unavailable' });
    }
    // A new visitor: the engine answers before its writes are stored, so the write's failure
    // turns the redirect into the page, and the interaction's cookies are not set.
    const { response, text } = await timed(
      fetch(
        `${yitong.issuer}/auth?client_id=${site.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
        { headers: { accept: 'text/html' }, redirect: 'manual' },
      ),
    );
    t.is(response.status, 503, text.slice(0, 200));
    t.regex(text, /服务暂时不可用/);
    t.deepEqual(response.headers.getSetCookie(), []);
    t.is(response.headers.get('location'), null);
    redis.resume();
    const back = await recovery(async () => (await calls.userinfo()).status === 200);
    t.true(back < 1000, `service back ${Math.round(back)} ms after Redis resumed`);
  },
);

test.serial(
  'Redis refusing writes, full (maxmemory) or short of replicas (min-replicas-to-write): what needs a write answers 503, nothing 500; back as soon as it takes writes',
  async (t) => {
    const calls = requests();
    for (const [setting, refuse] of [
      ['maxmemory', '1'],
      ['min-replicas-to-write', '1'],
    ] as const) {
      redisConfig(setting, refuse);
      t.teardown(() => redisConfig(setting, '0'));
      const statuses: Record<string, number> = {};
      for (const [name, call] of Object.entries(calls)) {
        const { response, text } = await timed(call());
        statuses[name] = response.status;
        t.not(response.status, 500, `${setting} ${name}: ${text.slice(0, 200)}`);
      }
      t.log(`${setting}: ${JSON.stringify(statuses)}`);
      // A new interaction is written with plain commands, which both refuse.
      t.is(statuses.auth, 503, setting);
      t.false(yitong.server.container.outages.isDown('redis'), 'told as a refusal, not an outage');
      redisConfig(setting, '0');
      await recovery(async () => (await calls.auth()).status < 500);
    }
  },
);

test.serial(
  'Redis refusing writes is told once a minute, and a stop after it as an outage, with its end',
  async (t) => {
    const lines: string[] = [];
    const log = (_: unknown, line: string) => lines.push(line);
    const outages = createOutages({ error: log, warn: log } as never);
    const client = await connectRedis({ kind: 'single', url: redis.url }, { outages });
    t.teardown(() => client.destroy());
    redisConfig('maxmemory', '1');
    t.teardown(() => redisConfig('maxmemory', '0'));
    for (let i = 0; i < 3; i++) {
      const refused = await t.throwsAsync(client.set('{refused}:x', '1'));
      t.true(isOutage(refused), 'answered 503');
      outages.down('redis', refused); // what the error handlers do with it
    }
    redisConfig('maxmemory', '0');
    t.deepEqual(lines, ['redis refuses writes: answering 503 where one is needed']);
    await redis.stop();
    await eventually('the stop told', async () =>
      lines.includes('redis unreachable: answering 503 until it is back'),
    );
    await redis.start();
    await eventually('its end told', async () => lines.includes('redis is back'));
  },
);

test.serial(
  'PostgreSQL stopped: what needs it answers 503 within a second, /readyz says so (not "pending migrations"); back within 2 s',
  async (t) => {
    await signIn();
    const calls = requests();
    await postgres.stop('fast');
    for (const name of ['userinfo', 'page'] as const) {
      const { response, ms, text } = await timed(calls[name]());
      t.is(response.status, 503, `${name}: ${text.slice(0, 200)}`);
      t.true(ms < 1000, `${name} answered in ${Math.round(ms)} ms`);
    }
    const ready = await timed(fetch(`${yitong.issuer}/readyz`));
    t.is(ready.response.status, 503);
    t.true(ready.ms < 1000);
    t.like(JSON.parse(ready.text), { checks: { database: 'unreachable', migrations: 'unknown' } });

    await postgres.start();
    const back = await recovery(async () => (await calls.userinfo()).status === 200);
    t.true(back < 2000, `service back ${Math.round(back)} ms after PostgreSQL`);
  },
);

test.serial(
  'PostgreSQL with its disk full: what writes answers 503, never 500, and reads go on; back as soon as it has room',
  async (t) => {
    await signIn(); // a new token: its first UserInfo records what it released
    const calls = requests();
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    t.teardown(() => admin.end());
    // What PostgreSQL answers when it cannot extend a table's file (SQLSTATE 53100), on the trail.
    await admin.query(`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
    END $$`);
    const room = () =>
      admin.query('DROP TRIGGER IF EXISTS disk_full ON audit_events; DROP FUNCTION IF EXISTS disk_full()');
    t.teardown(room);
    await admin.query('CREATE TRIGGER disk_full BEFORE INSERT ON audit_events EXECUTE FUNCTION disk_full()');
    const { response, text } = await timed(calls.userinfo());
    t.is(response.status, 503, text.slice(0, 200));
    t.like(JSON.parse(text), { error: 'temporarily_unavailable' });
    t.is((await calls.page()).status, 200, 'a page that only reads');
    t.false(yitong.server.container.outages.isDown('database'), 'told as a refusal, not an outage');
    await room();
    t.is((await calls.userinfo()).status, 200);
  },
);

test.serial(
  'Redis missing at start-up: Yitong starts anyway, answers 503 where Redis is needed and /readyz says so; heals when Redis comes',
  async (t) => {
    const own = await privatePostgres(t.teardown);
    const missing = await privateRedis(t.teardown);
    await missing.stop();
    const started = performance.now();
    const late = await startYitong('pglite', {
      DATABASE_URL: own.url,
      REDIS_URL: missing.url,
      REDIS_COMMAND_TIMEOUT_MS: '800',
    });
    t.teardown(() => late.stop());
    t.true(performance.now() - started < 30_000, 'started without waiting for Redis');
    const ready = await timed(fetch(`${late.issuer}/readyz`));
    t.is(ready.response.status, 503);
    t.like(JSON.parse(ready.text), { checks: { redis: 'unreachable', database: 'ok' } });
    const userinfo = () => fetch(`${late.issuer}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    const before = await timed(userinfo());
    t.is(before.response.status, 503, before.text.slice(0, 200));
    t.true(before.ms < 1000, `answered in ${Math.round(before.ms)} ms`);
    t.is(
      (await fetch(`${late.issuer}/.well-known/openid-configuration`)).status,
      200,
      'what needs no Redis works',
    );

    await missing.start();
    const back = await recovery(async () => (await userinfo()).status === 401);
    t.true(back < 3000, `service back ${Math.round(back)} ms after Redis came`);
    t.is((await fetch(`${late.issuer}/readyz`)).status, 200);
  },
);

test.serial('Sentinels that do not answer: Redis is never taken for back before one does', async (t) => {
  const told: string[] = [];
  const redis = await connectRedis(
    { kind: 'sentinel', name: 'yitong', sentinels: [{ host: '127.0.0.1', port: await freePort() }] },
    { outages: { down: () => told.push('down'), up: () => told.push('up') } },
  );
  t.teardown(() => redis.close());
  t.true(await eventually('taken for down', () => told.includes('down'), 5000));
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.false(told.includes('up'), told.join(' '));
});

test.serial(
  'a Redis connection silenced on the way (a NAT, a firewall), Redis fine: commands fail for one deadline, then a new connection answers',
  async (t) => {
    const proxy = await silencingProxy(REDIS_URL);
    const told: string[] = [];
    const redis = await connectRedis(
      { kind: 'single', url: proxy.url },
      { commandTimeoutMs: 800, outages: { down: () => told.push('down'), up: () => told.push('up') } },
    );
    t.teardown(() => {
      redis.destroy(); // not a polite close, which would wait on a silenced connection
      proxy.close();
    });
    const probe = () => redis.get('{yitong}:probe');
    await probe();
    proxy.silence();
    t.true(isOutage(await t.throwsAsync(probe())), 'answered 503');
    // Without a new connection it would wait for TCP to give up, some fifteen minutes.
    const back = await recovery(async () => (await probe()) !== undefined, 3000);
    t.log(`answered again ${Math.round(back)} ms after the first failure`);
    t.is(told.filter((event) => event === 'down').length, 1);
    t.is(told.at(-1), 'up');
  },
);
