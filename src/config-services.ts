/**
 * The services Yitong talks to, as the environment names them: Redis (one, a cluster, or a
 * master behind Sentinel), the authoritative sources and the notifier.
 */
import { resolve } from 'node:path';
import { ConfigError, type Env, gotScheme, optionalUrl, parseInteger, tryUrl } from './config-error.ts';

/** One Redis, a Redis Cluster (some of its nodes), or a master found through Redis Sentinel. */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: string[] }
  | { kind: 'sentinel'; name: string; sentinels: Array<{ host: string; port: number }> };

/** An authoritative source Yitong asks: an HTTP service, or (development only) a file standing in for it. */
export type SourceConfig =
  | { kind: 'none' }
  | { kind: 'http'; url: string; token: string | undefined }
  | { kind: 'file'; path: string };

/** Where messages to people go (password-reset links): a webhook, or the log outside production. */
export type NotifierConfig =
  | { kind: 'log' }
  | { kind: 'webhook'; url: string; token: string | undefined }
  | { kind: 'none' };

/** REDIS_URL, or REDIS_CLUSTER_NODES, or REDIS_SENTINELS with REDIS_SENTINEL_NAME: one of them. */
export function parseRedis(env: Env): RedisTarget | undefined {
  const given = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter((name) => env[name]);
  if (given.length > 1)
    throw new ConfigError(given[0] as string, `and ${given.slice(1).join(', ')} cannot both be set`);
  const list = (value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (env.REDIS_CLUSTER_NODES) {
    const nodes = list(env.REDIS_CLUSTER_NODES).map((url) => redisUrl('REDIS_CLUSTER_NODES', url, true));
    return { kind: 'cluster', nodes };
  }
  if (env.REDIS_SENTINELS) {
    const sentinels = list(env.REDIS_SENTINELS).map((entry) => {
      const match = /^([\w.-]+|\[[\da-f:]+\]):(\d{1,5})$/i.exec(entry);
      if (!match)
        throw new ConfigError(
          'REDIS_SENTINELS',
          // A pasted URL may hold a password: only its scheme is shown.
          `must list host:port entries, comma-separated${entry.includes('://') ? gotScheme(entry) : ` (bad "${entry}")`}`,
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
        `must name the master the sentinels watch, e.g. mymaster (got "${name ?? ''}")`,
      );
    return { kind: 'sentinel', name, sentinels };
  }
  return env.REDIS_URL ? { kind: 'single', url: redisUrl('REDIS_URL', env.REDIS_URL) } : undefined;
}

/** A Redis URL whose path is a database number (`/0`), or nothing; a cluster has database 0 only. */
function redisUrl(name: string, value: string, cluster = false): string {
  const url = optionalUrl(name, value, ['redis:', 'rediss:']) as string;
  const database = new URL(url).pathname.replace(/^\//, '');
  if (database !== '' && !(cluster ? /^0$/ : /^\d{1,5}$/).test(database))
    throw new ConfigError(
      name,
      cluster
        ? 'must name no database (a cluster has database 0 only)'
        : 'must end in a database number, such as redis://host:6379/0, or in nothing',
    );
  return url;
}

export function parseRedisPrefix(value: string): string {
  if (!/^[\w:.-]{1,64}$/.test(value))
    throw new ConfigError(
      'REDIS_PREFIX',
      `must be 1–64 characters of letters, digits, : . _ - (got "${value}")`,
    );
  return value;
}

/** `<NAME>_URL` (+ `<NAME>_TOKEN`), or `<NAME>_FILE` outside production. */
export function parseSource(
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
      `${production ? 'must be an https URL when NODE_ENV=production' : 'must be an http(s) URL'}${gotScheme(url)}`,
    );
  return { kind: 'http', url, token: env[`${name}_TOKEN`] || undefined };
}

export function parseNotifier(env: Env, production: boolean): NotifierConfig {
  const url = env.NOTIFIER_URL;
  if (!url) return production ? { kind: 'none' } : { kind: 'log' };
  const parsed = tryUrl(url);
  if (!parsed || !(parsed.protocol === 'https:' || (!production && parsed.protocol === 'http:')))
    throw new ConfigError(
      'NOTIFIER_URL',
      `${production ? 'must be an https URL when NODE_ENV=production' : 'must be an http(s) URL'}${gotScheme(url)}`,
    );
  return { kind: 'webhook', url, token: env.NOTIFIER_TOKEN || undefined };
}
