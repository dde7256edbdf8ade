/**
 * The server (`npm start`) and the demo (`npm run demo`) refusing to start: one line saying
 * what is wrong and what to do, never a stack trace, never DATABASE_URL's password.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { openDatabase } from '../../src/db/database.ts';
import { privateRedis } from '../helpers/servers.ts';
import { upstreamsDir } from '../helpers/upstream-manifest.ts';

function start(script: string, env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', PORT: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const dataDir = () => mkdtempSync(join(tmpdir(), 'yitong-start-'));

test('an unreachable PostgreSQL: the same line as the CLI gives, naming DATABASE_URL without its password', (t) => {
  const refused = start('src/main.ts', {
    DATA_DIR: dataDir(),
    DATABASE_URL: 'postgres://yitong:secretpw@127.0.0.1:1/yitong',
  });
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    'Yitong cannot start: cannot reach the database at 127.0.0.1:1: connection refused; check DATABASE_URL\n',
  );
  t.false(`${refused.stdout}${refused.stderr}`.includes('secretpw'));
});

test('the embedded database held by another process: the server and the demo say so in one line', async (t) => {
  const DATA_DIR = dataDir();
  // This test's process stands in for the server already running.
  const running = await openDatabase({ pgliteDir: join(DATA_DIR, 'pglite') });
  t.teardown(() => running.close());
  for (const [script, who] of [
    ['src/main.ts', 'Yitong'],
    ['clients/demo-site/demo.ts', 'The Yitong demo'],
  ] as const) {
    const blocked = start(script, { DATA_DIR });
    t.is(blocked.status, 1, script);
    t.is(
      blocked.stderr,
      `${who} cannot start: the embedded database ${join(DATA_DIR, 'pglite')} is in use by process ${process.pid} on ${blocked.stderr.match(/ on (\S+):/)?.[1]}: stop it (a server, the demo or a command), set DATA_DIR to another folder, or set DATABASE_URL to share a PostgreSQL server\n`,
      script,
    );
  }
});

test('a DATA_ENCRYPTION_KEY other than the one the data was written with: one line naming it, nothing logged before it', (t) => {
  const production = {
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.gov.cn',
    TRUST_PROXY: 'true',
    COOKIE_KEYS: 'k'.repeat(40),
    HMAC_KEY: randomBytes(32).toString('base64'),
    DATA_DIR: dataDir(),
  };
  const key = () => randomBytes(32).toString('base64');
  // The signing keys are made, and sealed, the first time the database is opened.
  const first = { ...production, DATA_ENCRYPTION_KEY: key() };
  const written = start('src/cli/main.ts', first, ['migrate']);
  t.is(written.status, 0, written.stderr);
  // A stored upstream's secret is sealed with the same key (it would fail to open first).
  const stored = start('src/cli/main.ts', first, ['upstreams', 'sync', upstreamsDir()]);
  t.is(stored.status, 0, stored.stderr);
  const other = start('src/main.ts', { ...production, DATA_ENCRYPTION_KEY: key(), LOG_LEVEL: 'info' });
  t.is(other.status, 1);
  t.is(other.stdout, '', 'no log line (and no stack trace) before it');
  t.is(
    other.stderr,
    "Yitong cannot start: DATA_ENCRYPTION_KEY does not decrypt this database's data (signing keys): it must be the key the data was written with\n",
  );
});

test('a port another program holds: one line naming it and PORT', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, resolve));
  t.teardown(() => holder.close());
  const port = String((holder.address() as AddressInfo).port);
  const refused = start('src/main.ts', { DATA_DIR: dataDir(), PORT: port });
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    `Yitong cannot start: port ${port} is in use by another program: stop it, or choose another with PORT\n`,
  );
});

test('a Redis that refuses the settings (a database it lacks, a wrong password): one line naming the variable, no start', async (t) => {
  const redis = await privateRedis(t.teardown);
  t.teardown(() => redis.stop());
  const lacking = start('src/main.ts', { DATA_DIR: dataDir(), REDIS_URL: `${redis.url}/99` });
  t.is(lacking.status, 1);
  t.is(lacking.stderr, 'Yitong cannot start: REDIS_URL is refused by Redis: ERR DB index is out of range\n');
  execFileSync('redis-cli', ['-u', redis.url, 'config', 'set', 'requirepass', 'right-password']);
  const wrong = start('src/main.ts', {
    DATA_DIR: dataDir(),
    REDIS_URL: redis.url.replace('redis://', 'redis://:wrong-password@'),
  });
  t.is(wrong.status, 1);
  t.regex(wrong.stderr, /^Yitong cannot start: REDIS_URL is refused by Redis: WRONGPASS /);
  t.false(wrong.stderr.includes('wrong-password'), 'never the password');
});
