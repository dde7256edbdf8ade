/**
 * The environment, read once into a frozen, typed object. No other file reads `process.env`.
 *
 * @example
 *   const config = loadConfig(process.env); // throws ConfigError('PORT', 'must be …') on bad input
 */
import { resolve } from 'node:path';
import { isLimitName, LIMITS, type LimitName } from './auth/limits.ts';
import { ConfigError, type Env, gotScheme, optionalUrl, parseInteger, tryUrl } from './config-error.ts';
import { parseIpAreas, parseNetworks, parseProxyHops } from './config-network.ts';
import {
  type NotifierConfig,
  parseNotifier,
  parseRedis,
  parseRedisPrefix,
  parseSource,
  type RedisTarget,
  type SourceConfig,
} from './config-services.ts';
import { loadSecrets, type Secrets } from './secrets.ts';

export type { Secrets };
export { ConfigError };

export interface Config {
  production: boolean;
  issuer: string;
  port: number;
  dataDir: string;
  /** Unset: the embedded PostgreSQL (PGlite) under `dataDir`. */
  databaseUrl: string | undefined;
  /** Unset: OIDC artifacts, rate-limit counters and challenges live in the database. */
  redis: RedisTarget | undefined;
  /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  secrets: Secrets;
  /** CIDR networks that outgoing requests (back-channel logout, jwks_uri) may reach besides public ones. */
  outboundAllowedNetworks: string[];
  /** How many proxies in front append to X-Forwarded-For (0: none; the connection's address is the client's). */
  proxyHops: number;
  logLevel: string;
  /** Where identity level 2 is checked (name + number against an authoritative source); none: online checks are off. */
  identityVerifier: SourceConfig;
  /** Where a claim to represent an entity is checked (the business registration source); none: claims wait for a counter or an administrator. */
  businessRegistry: SourceConfig;
  /** Networks (CIDR) and the area each covers, from IP_AREAS_FILE: how a session's place is shown. */
  ipAreas: Array<{ network: string; area: string }>;
  /** Rate limits the operator changed from the defaults of auth/limits.ts (RATE_LIMITS). */
  rateLimits: Partial<Record<LimitName, { limit: number; windowSeconds: number }>>;
  /** Bearer token Prometheus presents at `/metrics`; unset: no metrics are served. */
  metricsToken: string | undefined;
  /** The catalogue of verified attribute types (attributes/*.json), read at start. */
  attributesDir: string;
  /** The certificate library (电子证照库) a certificate's file is fetched from, without a trailing slash. */
  certificateLibraryUrl: string | undefined;
  /** How long a rotated client secret keeps working beside the new one (seconds; 0: not at all). */
  clientSecretGraceSeconds: number;
  /**
   * How long Yitong waits on its dependencies, on a client sending its request, and at shutdown
   * on requests in flight (ms).
   */
  timeouts: {
    databaseConnectMs: number;
    databaseStatementMs: number;
    redisCommandMs: number;
    requestMs: number;
    shutdownGraceMs: number;
  };
  /** Where messages to people go (password-reset links): a webhook, or the log outside production. */
  notifier: NotifierConfig;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** `test` is what ava sets; unset means development. */
const NODE_ENVS = ['production', 'development', 'test'];

/** Settings that mean something only beside another: alone, a sign of a mistake (a typo in the other's name). */
const NEEDS = [
  ['REDIS_SENTINEL_NAME', 'REDIS_SENTINELS'],
  ['NOTIFIER_TOKEN', 'NOTIFIER_URL'],
  ['IDENTITY_VERIFIER_TOKEN', 'IDENTITY_VERIFIER_URL'],
  ['BUSINESS_REGISTRY_TOKEN', 'BUSINESS_REGISTRY_URL'],
] as const;
/** The secrets come from one place: SECRETS_FILE, or these three. */
const BESIDE_SECRETS_FILE = ['COOKIE_KEYS', 'DATA_ENCRYPTION_KEY', 'HMAC_KEY'];

export function loadConfig(env: Env = process.env): Readonly<Config> {
  for (const [name, other] of NEEDS)
    if (env[name] && !env[other])
      throw new ConfigError(name, `is set, but ${other} is not: set both, or neither`);
  const both = env.SECRETS_FILE && BESIDE_SECRETS_FILE.find((name) => env[name]);
  if (both)
    throw new ConfigError(both, 'and SECRETS_FILE cannot both be set: the secrets come from one place');
  // Any other value (`prod`) would quietly run in development mode, with generated secrets.
  const production = oneOf('NODE_ENV', env.NODE_ENV || 'development', NODE_ENVS) === 'production';
  const dataDir = resolve(env.DATA_DIR || './data');
  const port = parseInteger('PORT', env.PORT || '3000', 1, 65535);
  const config: Config = {
    production,
    // On one's own machine the issuer follows the port; production names its https address.
    issuer: parseIssuer(env.ISSUER || `http://localhost:${port}`, production),
    port,
    dataDir,
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    redis: parseRedis(env),
    redisPrefix: parseRedisPrefix(env.REDIS_PREFIX ?? 'yitong:'),
    secrets: loadSecrets(env, production, dataDir),
    outboundAllowedNetworks: parseNetworks(env.OUTBOUND_ALLOWED_NETWORKS || ''),
    proxyHops: parseProxyHops(env.TRUST_PROXY || 'false', production),
    logLevel: oneOf('LOG_LEVEL', env.LOG_LEVEL || (production ? 'info' : 'warn'), LOG_LEVELS),
    identityVerifier: parseSource(env, 'IDENTITY_VERIFIER', production),
    businessRegistry: parseSource(env, 'BUSINESS_REGISTRY', production),
    notifier: parseNotifier(env, production),
    clientSecretGraceSeconds: parseInteger(
      'CLIENT_SECRET_GRACE_SECONDS',
      env.CLIENT_SECRET_GRACE_SECONDS || '86400',
      0,
      30 * 86400,
    ),
    ipAreas: env.IP_AREAS_FILE ? parseIpAreas(env.IP_AREAS_FILE) : [],
    metricsToken: parseMetricsToken(env.METRICS_TOKEN),
    attributesDir: env.ATTRIBUTES_DIR || new URL('../attributes/', import.meta.url).pathname,
    certificateLibraryUrl: optionalUrl(
      'CERTIFICATE_LIBRARY_URL',
      env.CERTIFICATE_LIBRARY_URL,
      production ? ['https:'] : ['https:', 'http:'],
    )?.replace(/\/+$/, ''),
    rateLimits: parseRateLimits(env.RATE_LIMITS ?? ''),
    timeouts: {
      databaseConnectMs: parseInteger(
        'DATABASE_CONNECT_TIMEOUT_MS',
        env.DATABASE_CONNECT_TIMEOUT_MS || '2000',
        100,
        60_000,
      ),
      databaseStatementMs: parseInteger(
        'DATABASE_STATEMENT_TIMEOUT_MS',
        env.DATABASE_STATEMENT_TIMEOUT_MS || '10000',
        100,
        600_000,
      ),
      redisCommandMs: parseInteger(
        'REDIS_COMMAND_TIMEOUT_MS',
        env.REDIS_COMMAND_TIMEOUT_MS || '800',
        50,
        60_000,
      ),
      requestMs: parseInteger('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS || '30000', 1000, 600_000),
      shutdownGraceMs: parseInteger('SHUTDOWN_GRACE_MS', env.SHUTDOWN_GRACE_MS || '10000', 0, 300_000),
    },
  };
  return Object.freeze(config);
}

/** The node-postgres SSL modes: any other would be taken as `verify-full`, and fail unexplained. */
const SSL_MODES = ['disable', 'no-verify', 'prefer', 'require', 'verify-ca', 'verify-full'];

function parseDatabaseUrl(value: string | undefined): string | undefined {
  const url = optionalUrl('DATABASE_URL', value, ['postgres:', 'postgresql:']);
  const modes = url ? new URL(url).searchParams.getAll('sslmode') : [];
  // Given twice, node-postgres would take the last, a reader of the URL the first.
  if (modes.length > 1 || modes.some((mode) => !SSL_MODES.includes(mode)))
    throw new ConfigError('DATABASE_URL', `sslmode must be one of ${SSL_MODES.join(', ')}, once`);
  return url;
}

function parseIssuer(value: string, production: boolean): string {
  const url = tryUrl(value);
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError('ISSUER', `must be an http(s) URL${gotScheme(value)}`);
  }
  if (production && url.protocol !== 'https:') {
    throw new ConfigError('ISSUER', 'must use https when NODE_ENV=production');
  }
  if (url.search || url.hash) throw new ConfigError('ISSUER', 'must not have a query or fragment');
  // Printed at start and sent to every site: a user name or password in it would be too.
  if (url.username || url.password) throw new ConfigError('ISSUER', 'must not hold a user name or password');
  return url.href.replace(/\/$/, '');
}

/** `name=limit/seconds`, comma-separated: `pwd:acct=20/3600,reg:ip=10/3600`. */
function parseRateLimits(value: string): Config['rateLimits'] {
  const limits: Config['rateLimits'] = {};
  for (const entry of value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^([\w:+-]+)=(\d{1,6})\/(\d{1,6})$/.exec(entry);
    if (!match || !isLimitName(match[1] as string))
      throw new ConfigError(
        'RATE_LIMITS',
        `must list name=limit/seconds entries of known limits (${Object.keys(LIMITS).join(', ')}); bad "${entry}"`,
      );
    const [, name, limit, seconds] = match as unknown as [string, LimitName, string, string];
    if (Number(limit) < 1 || Number(seconds) < 1)
      throw new ConfigError('RATE_LIMITS', `needs a limit and a window of at least 1 (bad "${entry}")`);
    limits[name] = { limit: Number(limit), windowSeconds: Number(seconds) };
  }
  return limits;
}

function parseMetricsToken(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.length < 32 || !/^[\x21-\x7e]+$/.test(value))
    throw new ConfigError(
      'METRICS_TOKEN',
      'must be at least 32 printable characters without spaces (openssl rand -hex 32)',
    );
  return value;
}

function oneOf(name: string, value: string, allowed: string[]): string {
  if (!allowed.includes(value))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  return value;
}
