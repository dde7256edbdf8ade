import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../../src/config.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'yitong-config-'));
const key32 = Buffer.alloc(32, 7).toString('base64');
const productionSecrets = {
  TRUST_PROXY: 'true',
  COOKIE_KEYS: 'k'.repeat(40),
  DATA_ENCRYPTION_KEY: key32,
  HMAC_KEY: key32,
};

test('defaults make a development server that just works, with secrets generated once and kept', (t) => {
  const dir = dataDir();
  const config = loadConfig({ DATA_DIR: dir });
  t.is(config.issuer, 'http://localhost:3000');
  t.is(config.port, 3000);
  t.is(config.databaseUrl, undefined);
  t.false(config.production);
  t.true(Object.isFrozen(config));
  t.is(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  t.deepEqual(loadConfig({ DATA_DIR: dir }).secrets, config.secrets, 'the same secrets on the next start');
  t.deepEqual(config.identityVerifier, { kind: 'none' });
});

test('on another port the development issuer follows it; a given ISSUER is kept', (t) => {
  t.is(loadConfig({ DATA_DIR: dataDir(), PORT: '4500' }).issuer, 'http://localhost:4500');
  t.is(
    loadConfig({ DATA_DIR: dataDir(), PORT: '4500', ISSUER: 'http://127.0.0.1:8080' }).issuer,
    'http://127.0.0.1:8080',
  );
});

test('messages to people: the log in development, a webhook when set, nothing in production without one', (t) => {
  t.deepEqual(loadConfig({ DATA_DIR: dataDir() }).notifier, { kind: 'log' });
  const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.gov.cn', ...productionSecrets };
  t.deepEqual(loadConfig({ DATA_DIR: dataDir(), ...production }).notifier, { kind: 'none' });
  t.deepEqual(
    loadConfig({
      DATA_DIR: dataDir(),
      ...production,
      NOTIFIER_URL: 'https://sms.example.gov.cn/send',
      NOTIFIER_TOKEN: 'k',
    }).notifier,
    {
      kind: 'webhook',
      url: 'https://sms.example.gov.cn/send',
      token: 'k',
    },
  );
  t.throws(
    () => loadConfig({ DATA_DIR: dataDir(), ...production, NOTIFIER_URL: 'http://sms.example.gov.cn/send' }),
    {
      message: /^NOTIFIER_URL must be an https URL/,
    },
  );
});

test('the identity verifier and the business registry: an HTTP source with its token, or a file in development', (t) => {
  const http = loadConfig({
    DATA_DIR: dataDir(),
    IDENTITY_VERIFIER_URL: 'https://a.example/v',
    IDENTITY_VERIFIER_TOKEN: 'tok',
  });
  t.deepEqual(http.identityVerifier, { kind: 'http', url: 'https://a.example/v', token: 'tok' });
  const file = loadConfig({ DATA_DIR: dataDir(), IDENTITY_VERIFIER_FILE: 'dev/authority.json' });
  t.like(file.identityVerifier, { kind: 'file' });
  t.regex((file.identityVerifier as { path: string }).path, /^\/.*dev\/authority\.json$/);
  const registry = loadConfig({
    DATA_DIR: dataDir(),
    BUSINESS_REGISTRY_URL: 'https://registry.example/check',
    BUSINESS_REGISTRY_TOKEN: 'tok',
  });
  t.deepEqual(registry.businessRegistry, {
    kind: 'http',
    url: 'https://registry.example/check',
    token: 'tok',
  });
  t.deepEqual(loadConfig({ DATA_DIR: dataDir() }).businessRegistry, { kind: 'none' });
});

const bad: Array<[string, Record<string, string>, RegExp]> = [
  ['PORT', { PORT: 'abc' }, /^PORT must be an integer from 1 to 65535/],
  ['PORT', { PORT: '70000' }, /^PORT must be an integer/],
  ['ISSUER', { ISSUER: 'not a url' }, /^ISSUER must be an http\(s\) URL/],
  ['ISSUER', { ISSUER: 'http://localhost:3000/?x=1' }, /^ISSUER must not have a query/],
  ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }, /^DATABASE_URL must be a URL starting with postgres:/],
  [
    'DATABASE_URL',
    { DATABASE_URL: 'postgres://u:secretpw@db/yitong?sslmode=bogus' },
    /^DATABASE_URL sslmode must be one of disable, no-verify, prefer, require, verify-ca, verify-full, once$/,
  ],
  [
    'DATABASE_URL',
    { DATABASE_URL: 'postgres://db/yitong?sslmode=require&sslmode=disable' },
    /^DATABASE_URL sslmode must be one of .*, once$/,
  ],
  ['REDIS_URL', { REDIS_URL: 'http://x' }, /^REDIS_URL must be a URL starting with redis:/],
  ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /^REDIS_URL must end in a database number/],
  [
    'REDIS_CLUSTER_NODES',
    { REDIS_CLUSTER_NODES: 'redis://127.0.0.1:7000,redis://127.0.0.1:7001/1' },
    /^REDIS_CLUSTER_NODES must name no database \(a cluster has database 0 only\)$/,
  ],
  ['ISSUER', { ISSUER: 'http://user:pw@localhost:4102' }, /^ISSUER must not hold a user name or password$/],
  [
    'OUTBOUND_ALLOWED_NETWORKS',
    { OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8, 300.1.1.1/8' },
    /bad "300.1.1.1\/8"/,
  ],
  ['TRUST_PROXY', { TRUST_PROXY: 'yes' }, /^TRUST_PROXY must be false, true or the number of proxies/],
  [
    'HMAC_KEY',
    { COOKIE_KEYS: 'k'.repeat(40), DATA_ENCRYPTION_KEY: key32, HMAC_KEY: 'short' },
    /^HMAC_KEY must be 32 to 64 random bytes/,
  ],
  [
    'DATA_ENCRYPTION_KEY',
    { COOKIE_KEYS: 'k'.repeat(40), HMAC_KEY: key32 },
    /^DATA_ENCRYPTION_KEY is required when the other secrets are set/,
  ],
  [
    'IDENTITY_VERIFIER_URL',
    { IDENTITY_VERIFIER_URL: 'ftp://authority' },
    /^IDENTITY_VERIFIER_URL must be an http\(s\) URL \(got "ftp:\/\/…"\)$/,
  ],
  [
    'NODE_ENV',
    { NODE_ENV: 'prod' },
    /^NODE_ENV must be one of production, development, test \(got "prod"\)$/,
  ],
  ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of fatal, .*, silent \(got "loud"\)$/],
  ['REDIS_PREFIX', { REDIS_PREFIX: 'a b' }, /\(got "a b"\)$/],
  [
    'REDIS_SENTINEL_NAME',
    { REDIS_SENTINEL_NAME: 'mymaster' },
    /^REDIS_SENTINEL_NAME is set, but REDIS_SENTINELS is not: set both, or neither$/,
  ],
  ['NOTIFIER_TOKEN', { NOTIFIER_TOKEN: 't' }, /^NOTIFIER_TOKEN is set, but NOTIFIER_URL is not/],
  [
    'COOKIE_KEYS',
    { SECRETS_FILE: '/nonexistent.json', COOKIE_KEYS: 'k'.repeat(40) },
    /^COOKIE_KEYS and SECRETS_FILE cannot both be set/,
  ],
  [
    'IDENTITY_VERIFIER_URL',
    { IDENTITY_VERIFIER_URL: 'https://a.example', IDENTITY_VERIFIER_FILE: 'a.json' },
    /cannot both be set/,
  ],
  [
    'IDENTITY_VERIFIER_FILE',
    {
      NODE_ENV: 'production',
      ISSUER: 'https://id.example.gov.cn',
      ...productionSecrets,
      IDENTITY_VERIFIER_FILE: 'a.json',
    },
    /is for development only/,
  ],
  [
    'IDENTITY_VERIFIER_URL',
    {
      NODE_ENV: 'production',
      ISSUER: 'https://id.example.gov.cn',
      ...productionSecrets,
      IDENTITY_VERIFIER_URL: 'http://a.example',
    },
    /must be an https URL when NODE_ENV=production/,
  ],
  [
    'BUSINESS_REGISTRY_FILE',
    {
      NODE_ENV: 'production',
      ISSUER: 'https://id.example.gov.cn',
      ...productionSecrets,
      BUSINESS_REGISTRY_FILE: 'a.json',
    },
    /is for development only; set BUSINESS_REGISTRY_URL/,
  ],
  ['BUSINESS_REGISTRY_URL', { BUSINESS_REGISTRY_URL: 'registry' }, /must be an http\(s\) URL/],
  ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }, /at least 32 printable characters/],
  ['RATE_LIMITS', { RATE_LIMITS: 'pwd:acct=0/60' }, /at least 1/],
  ['RATE_LIMITS', { RATE_LIMITS: 'nosuch=1/60' }, /known limits/],
  ['RATE_LIMITS', { RATE_LIMITS: 'pwd:acct=many' }, /name=limit\/seconds/],
  ['DATABASE_CONNECT_TIMEOUT_MS', { DATABASE_CONNECT_TIMEOUT_MS: '10' }, /integer from 100 to 60000/],
  ['REDIS_COMMAND_TIMEOUT_MS', { REDIS_COMMAND_TIMEOUT_MS: 'soon' }, /must be an integer/],
  ['REQUEST_TIMEOUT_MS', { REQUEST_TIMEOUT_MS: '0' }, /integer from 1000 to 600000/],
  [
    'SECRETS_FILE',
    { SECRETS_FILE: '/nonexistent/secrets.json' },
    /^SECRETS_FILE must name a readable JSON file \(ENOENT/,
  ],
];

for (const [variable, env, message] of bad) {
  test(`a bad ${variable} is named with the rule it breaks: ${JSON.stringify(env)}`, (t) => {
    const error = t.throws(() => loadConfig({ DATA_DIR: dataDir(), ...env }), { instanceOf: ConfigError });
    t.is(error?.variable, variable);
    t.regex(error?.message ?? '', message);
  });
}

test('production requires an https issuer and every secret', (t) => {
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', ISSUER: 'http://id.example.gov.cn', ...productionSecrets }),
    {
      message: /^ISSUER must use https when NODE_ENV=production/,
    },
  );
  t.throws(() => loadConfig({ NODE_ENV: 'production', ISSUER: 'https://id.example.gov.cn' }), {
    message: /^COOKIE_KEYS is required when NODE_ENV=production/,
  });
  const config = loadConfig({
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.gov.cn/',
    ...productionSecrets,
  });
  t.true(config.production);
  t.is(config.issuer, 'https://id.example.gov.cn');
});

test('NODE_ENV is production, development or test (what ava sets); unset is development', (t) => {
  for (const value of [undefined, '', 'development', 'test'])
    t.false(loadConfig({ DATA_DIR: dataDir(), NODE_ENV: value }).production, String(value));
  // A typo must not quietly run a production deployment in development mode, with generated secrets.
  for (const value of ['prod', 'Production', 'staging'])
    t.throws(() => loadConfig({ DATA_DIR: dataDir(), NODE_ENV: value, ...productionSecrets }), {
      message: `NODE_ENV must be one of production, development, test (got "${value}")`,
    });
});

test('a bad URL is shown by its scheme only: the rest may hold a password or a token', (t) => {
  const urls: Array<[string, string, string]> = [
    ['DATABASE_URL', 'mysql://app:secretpw@db.internal/yitong', ' (got "mysql://…")'],
    ['REDIS_URL', 'http://:secretpw@cache.internal', ' (got "http://…")'],
    ['NOTIFIER_URL', 'ftp://sms.internal/send?token=secretpw', ' (got "ftp://…")'],
    ['BUSINESS_REGISTRY_URL', 'registry:secretpw@host', ' (got something that is not a URL)'],
    ['ISSUER', 'ftp://id:secretpw@id.example.gov.cn', ' (got "ftp://…")'],
    ['REDIS_SENTINELS', 'redis://:secretpw@10.0.0.1:26379', ' (got "redis://…")'],
  ];
  for (const [variable, value, got] of urls) {
    const error = t.throws(
      () =>
        loadConfig({
          DATA_DIR: dataDir(),
          ...(variable === 'REDIS_SENTINELS' && { REDIS_SENTINEL_NAME: 'm' }),
          [variable]: value,
        }),
      {
        instanceOf: ConfigError,
      },
    );
    t.true(error?.message.startsWith(`${variable} must `), error?.message);
    t.true(error?.message.endsWith(got), error?.message);
    t.false(error?.message.includes('secretpw'), variable);
  }
});

test('secrets can come from one SECRETS_FILE', (t) => {
  const file = join(dataDir(), 'secrets.json');
  writeFileSync(
    file,
    JSON.stringify({ cookieKeys: ['c'.repeat(32)], dataEncryptionKey: key32, hmacKey: key32 }),
  );
  t.deepEqual(loadConfig({ SECRETS_FILE: file }).secrets.cookieKeys, ['c'.repeat(32)]);
  writeFileSync(file, '{ not json');
  t.throws(() => loadConfig({ SECRETS_FILE: file }), {
    message: /SECRETS_FILE must name a readable JSON file/,
  });
  t.false(readFileSync(file, 'utf8').includes('undefined'));
});

test('the server refuses to start on a bad variable with one line and exit code 1', (t) => {
  const result = spawnSync(process.execPath, ['src/main.ts'], {
    env: { PATH: process.env.PATH, PORT: 'eighty', DATA_DIR: dataDir() },
    encoding: 'utf8',
    timeout: 30_000,
  });
  t.is(result.status, 1);
  t.is(result.stderr.trim(), 'Yitong cannot start: PORT must be an integer from 1 to 65535 (got "eighty")');
});

test('RATE_LIMITS tunes the limits of auth/limits.ts by name', (t) => {
  const config = loadConfig({ DATA_DIR: dataDir(), RATE_LIMITS: 'pwd:acct=20/3600, reg:ip=10/600' });
  t.deepEqual(config.rateLimits, {
    'pwd:acct': { limit: 20, windowSeconds: 3600 },
    'reg:ip': { limit: 10, windowSeconds: 600 },
  });
});

test('a value echoed in an error cannot drive the terminal: control and format characters are shown escaped, a long one cut', (t) => {
  const error = t.throws(
    () =>
      loadConfig({
        DATA_DIR: dataDir(),
        NODE_ENV: `x\u001b[31mRED\u001b]0;pwned\u0007\r\nFAKE LINE\u202e${'y'.repeat(1000)}`,
      }),
    { instanceOf: ConfigError },
  );
  const message = error?.message ?? '';
  t.false(/[\p{Cc}\p{Cf}]/u.test(message), JSON.stringify(message.slice(0, 80)));
  t.true(message.includes('x\\u001b[31mRED'));
  t.true(message.length <= 401);
});
