/**
 * The secrets: from SECRETS_FILE, or from COOKIE_KEYS + DATA_ENCRYPTION_KEY + HMAC_KEY; outside
 * production, when none is given, generated once and kept in DATA_DIR. Part of config.ts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Env } from './config-error.ts';

export interface Secrets {
  /** Keys for signed cookies, newest first; older ones still verify. */
  cookieKeys: string[];
  /** AES-256-GCM key for personal data and private signing keys at rest. */
  dataKey: Buffer;
  /** Where the data key came from (`DATA_ENCRYPTION_KEY`, `SECRETS_FILE dataEncryptionKey`): what a start-up error names. */
  dataKeyName: string;
  /** Key of the HMAC used as the lookup index of identity numbers. */
  hmacKey: Buffer;
}

interface SecretsJson {
  cookieKeys?: unknown;
  dataEncryptionKey?: unknown;
  hmacKey?: unknown;
}

/**
 * Secrets come from SECRETS_FILE, or from COOKIE_KEYS + DATA_ENCRYPTION_KEY + HMAC_KEY.
 * Outside production, when none is given, they are generated once and kept in DATA_DIR.
 */
export function loadSecrets(env: Env, production: boolean, dataDir: string): Secrets {
  if (env.SECRETS_FILE)
    return parseSecrets(readSecretsFile('SECRETS_FILE', env.SECRETS_FILE), 'SECRETS_FILE');
  const given = ['COOKIE_KEYS', 'DATA_ENCRYPTION_KEY', 'HMAC_KEY'].filter((name) => env[name]);
  if (given.length > 0 || production) {
    const missing = ['COOKIE_KEYS', 'DATA_ENCRYPTION_KEY', 'HMAC_KEY'].find((name) => !env[name]);
    if (missing) {
      throw new ConfigError(
        missing,
        production
          ? 'is required when NODE_ENV=production (or set SECRETS_FILE)'
          : 'is required when the other secrets are set',
      );
    }
    return {
      cookieKeys: parseCookieKeys('COOKIE_KEYS', env.COOKIE_KEYS?.split(',')),
      dataKey: parseKey('DATA_ENCRYPTION_KEY', env.DATA_ENCRYPTION_KEY, 32, 32),
      dataKeyName: 'DATA_ENCRYPTION_KEY',
      hmacKey: parseKey('HMAC_KEY', env.HMAC_KEY, 32, 64),
    };
  }
  return developmentSecrets(dataDir);
}

function readSecretsFile(name: string, path: string): SecretsJson {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw new ConfigError(name, `must name a readable JSON file (${reason}: ${path})`);
  }
}

function parseSecrets(json: SecretsJson, source: string): Secrets {
  return {
    cookieKeys: parseCookieKeys(`${source} cookieKeys`, json.cookieKeys),
    dataKey: parseKey(`${source} dataEncryptionKey`, json.dataEncryptionKey, 32, 32),
    dataKeyName: `${source} dataEncryptionKey`,
    hmacKey: parseKey(`${source} hmacKey`, json.hmacKey, 32, 64),
  };
}

function parseCookieKeys(name: string, value: unknown): string[] {
  const keys = Array.isArray(value) ? value.map((k) => String(k).trim()).filter(Boolean) : [];
  if (keys.length === 0 || keys.some((k) => k.length < 32)) {
    throw new ConfigError(name, 'must list one or more cookie keys of at least 32 characters');
  }
  return keys;
}

function parseKey(name: string, value: unknown, min: number, max: number): Buffer {
  const key = typeof value === 'string' ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length < min || key.length > max) {
    const size = min === max ? `${min}` : `${min} to ${max}`;
    throw new ConfigError(name, `must be ${size} random bytes, base64-encoded (openssl rand -base64 ${min})`);
  }
  return key;
}

function developmentSecrets(dataDir: string): Secrets {
  const path = join(dataDir, 'secrets.json');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const generated = {
      cookieKeys: [randomBytes(32).toString('base64url')],
      dataEncryptionKey: randomBytes(32).toString('base64'),
      hmacKey: randomBytes(32).toString('base64'),
    };
    try {
      writeFileSync(path, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } catch (error) {
      // Another process started at the same moment and wrote them first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parseSecrets(readSecretsFile('DATA_DIR', path), path);
}
