/**
 * The environment, read once into a frozen, typed object. No other file reads `process.env`.
 *
 * @example
 *   const config = loadConfig(process.env); // throws ConfigError('PORT', 'must be …') on bad input
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { isLimitName, LIMITS, type LimitName } from './auth/limits.ts';
import { ConfigError, type Env } from './config-error.ts';
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
  /** How long Yitong waits on its dependencies and, at shutdown, on requests in flight (ms). */
  timeouts: {
    databaseConnectMs: number;
    databaseStatementMs: number;
    redisCommandMs: number;
    shutdownGraceMs: number;
  };
  /** Where messages to people go (password-reset links): a webhook, or the log outside production. */
  notifier: { kind: 'log' } | { kind: 'webhook'; url: string; token: string | undefined } | { kind: 'none' };
}

/** An authoritative source Yitong asks: an HTTP service, or (development only) a file standing in for it. */
/** One Redis, a Redis Cluster (some of its nodes), or a master found through Redis Sentinel. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: string[] }
  | { kind: 'sentinel'; name: string; sentinels: Array<{ host: string; port: number }> };

export type SourceConfig =
  | { kind: 'none' }
  | { kind: 'http'; url: string; token: string | undefined }
  | { kind: 'file'; path: string };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const production = env.NODE_ENV === 'production';
  const dataDir = resolve(env.DATA_DIR || './data');
  const config: Config = {
    production,
    issuer: parseIssuer(env.ISSUER || 'http://localhost:3000', production),
    port: parseInteger('PORT', env.PORT || '3000', 1, 65535),
    dataDir,
    databaseUrl: optionalUrl('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']),
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
        env.DATABASE_CONNECT_TIMEOUT_MS || '5000',
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
      shutdownGraceMs: parseInteger('SHUTDOWN_GRACE_MS', env.SHUTDOWN_GRACE_MS || '10000', 0, 300_000),
    },
  };
  return Object.freeze(config);
}

function parseIssuer(value: string, production: boolean): string {
  const url = tryUrl(value);
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError('ISSUER', `must be an http(s) URL (got "${value}")`);
  }
  if (production && url.protocol !== 'https:') {
    throw new ConfigError('ISSUER', 'must use https when NODE_ENV=production');
  }
  if (url.search || url.hash) throw new ConfigError('ISSUER', 'must not have a query or fragment');
  return url.href.replace(/\/$/, '');
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

/** `false`/`0`: no proxy; `true`: one; `2`…`5`: that many, of which only the nearest entries are trusted. */
function parseProxyHops(value: string, production: boolean): number {
  const hops =
    value === 'true' ? 1 : value === 'false' ? 0 : /^[0-5]$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(hops))
    throw new ConfigError(
      'TRUST_PROXY',
      `must be false, true or the number of proxies in front, 0–5 (got "${value}")`,
    );
  if (production && hops === 0) {
    throw new ConfigError(
      'TRUST_PROXY',
      'must be true (or the number of proxies) when NODE_ENV=production: Yitong serves plain HTTP behind a TLS-terminating proxy',
    );
  }
  return hops;
}

/** `<NAME>_URL` (+ `<NAME>_TOKEN`), or `<NAME>_FILE` outside production. */
function parseSource(
  env: Env,
  name: 'IDENTITY_VERIFIER' | 'BUSINESS_REGISTRY',
  production: boolean,
): SourceConfig {
  const url = env[`${name}_URL`];
  const path = env[`${name}_FILE`];
  if (url && path) throw new ConfigError(`${name}_URL`, `and ${name}_FILE cannot both be set`);
  if (path) {
    if (production)
      throw new ConfigError(`${name}_FILE`, `is for development only; set ${name}_URL in production`);
    return { kind: 'file', path: resolve(path) };
  }
  if (!url) return { kind: 'none' };
  const parsed = tryUrl(url);
  if (!parsed || !(parsed.protocol === 'https:' || (!production && parsed.protocol === 'http:')))
    throw new ConfigError(
      `${name}_URL`,
      production ? 'must be an https URL when NODE_ENV=production' : 'must be an http(s) URL',
    );
  return { kind: 'http', url, token: env[`${name}_TOKEN`] || undefined };
}

/** REDIS_URL, or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME: one of them. */
function parseRedis(env: Env): RedisTarget | undefined {
  const given = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter((name) => env[name]);
  if (given.length > 1)
    throw new ConfigError(given[0] as string, `and ${given.slice(1).join(', ')} cannot both be set`);
  const list = (value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (env.REDIS_CLUSTER_NODES) {
    const nodes = list(env.REDIS_CLUSTER_NODES).map(
      (url) => optionalUrl('REDIS_CLUSTER_NODES', url, ['redis:', 'rediss:']) as string,
    );
    return { kind: 'cluster', nodes };
  }
  if (env.REDIS_SENTINELS) {
    const sentinels = list(env.REDIS_SENTINELS).map((entry) => {
      const match = /^([\w.-]+|\[[\da-f:]+\]):(\d{1,5})$/i.exec(entry);
      if (!match)
        throw new ConfigError(
          'REDIS_SENTINELS',
          `must list host:port entries, comma-separated (bad "${entry}")`,
        );
      return {
        host: (match[1] as string).replace(/^\[|\]$/g, ''),
        port: parseInteger('REDIS_SENTINELS', match[2] as string, 1, 65535),
      };
    });
    const name = env.REDIS_SENTINEL_NAME;
    if (!name || !/^[\w.-]{1,64}$/.test(name))
      throw new ConfigError(
        'REDIS_SENTINEL_NAME',
        'must name the master the sentinels watch (e.g. mymaster)',
      );
    return { kind: 'sentinel', name, sentinels };
  }
  const url = optionalUrl('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']);
  return url ? { kind: 'single', url } : undefined;
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

function parseNotifier(env: Env, production: boolean): Config['notifier'] {
  const url = env.NOTIFIER_URL;
  if (!url) return production ? { kind: 'none' } : { kind: 'log' };
  const parsed = tryUrl(url);
  if (!parsed || !(parsed.protocol === 'https:' || (!production && parsed.protocol === 'http:')))
    throw new ConfigError(
      'NOTIFIER_URL',
      production ? 'must be an https URL when NODE_ENV=production' : 'must be an http(s) URL',
    );
  return { kind: 'webhook', url, token: env.NOTIFIER_TOKEN || undefined };
}

function oneOf(name: string, value: string, allowed: string[]): string {
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`);
  return value;
}

function parseRedisPrefix(value: string): string {
  if (!/^[\w:.-]{1,64}$/.test(value))
    throw new ConfigError('REDIS_PREFIX', 'must be 1–64 characters of letters, digits, : . _ -');
  return value;
}

function optionalUrl(name: string, value: string | undefined, protocols: string[]): string | undefined {
  if (!value) return undefined;
  const url = tryUrl(value);
  // Never echo the value: connection strings carry passwords.
  if (!url || !protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** `10.0.0.0/8, 192.168.1.0/24` → validated CIDR strings. */
function parseNetworks(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) =>
      checkCidr(cidr, 'OUTBOUND_ALLOWED_NETWORKS', 'must be a comma-separated list of CIDR networks'),
    );
}

function checkCidr(cidr: string, variable: string, rule: string): string {
  const [address = '', bits = ''] = cidr.split('/');
  const family = isIP(address);
  if (!family || !/^\d+$/.test(bits) || Number(bits) > (family === 6 ? 128 : 32))
    throw new ConfigError(variable, `${rule} (bad "${cidr}")`);
  new BlockList().addSubnet(address, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return cidr;
}

/** A UTF-8 CSV file of `network,area` lines (`36.24.0.0/13,浙江省杭州市`); `#` starts a comment. */
function parseIpAreas(path: string): Array<{ network: string; area: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError('IP_AREAS_FILE', `must name a readable file (got "${path}")`);
  }
  return text.split(/\r?\n/).flatMap((line, index) => {
    const content = line.replace(/#.*/, '').trim();
    if (!content) return [];
    const [network = '', area = '', extra] = content.split(',').map((part) => part.trim());
    const rule = `line ${index + 1} must be "network/bits,area"`;
    if (!area || extra !== undefined || area.length > 60)
      throw new ConfigError('IP_AREAS_FILE', `${rule} (got "${content}")`);
    return [{ network: checkCidr(network, 'IP_AREAS_FILE', rule), area }];
  });
}
