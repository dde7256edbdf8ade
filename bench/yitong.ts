/**
 * Yitong as the benchmarks run it: production mode on PostgreSQL + Redis, pinned to core 0, with
 * one persistent database per population (seeded citizens are reused by the next run), the bench
 * site registered and every citizen's consent to it given. Shared by run.ts and peers.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { peopleStorage, seedCitizens } from '../src/bench/seed.ts';
import { loadConfig } from '../src/config.ts';
import { createContainer, createLogger } from '../src/container.ts';
import { CLIENT_ID, REDIRECT_URI } from './flows.ts';

export const PASSWORD = 'bench-password-2026';
/** The verified values the first citizen holds, for the UserInfo-with-verified-claims scenario. */
export const VERIFIED: Array<[string, object]> = [
  ['education', { level: '本科', institution: '中山大学', graduated_on: '2015-06-30' }],
  ['social_insurance', { insurances: ['养老保险', '医疗保险'], insured_in: '440106', since: '2012-07-01' }],
];
const POSTGRES = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// ---- storage: one persistent database per population size (seeding 1 M people is kept between runs) ----
export async function benchDatabaseUrl(size: number): Promise<string> {
  const name = `yitong_bench_${size}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  return url.href;
}

const SECRETS_FILE = 'bench/tmp/secrets.json';
/** Kept between runs with the database: seeded identity numbers and signing keys are sealed with them. */
function benchSecrets(): string {
  mkdirSync('bench/tmp', { recursive: true });
  if (!existsSync(SECRETS_FILE)) {
    const key = () => randomBytes(32).toString('base64');
    const secrets = {
      cookieKeys: [randomBytes(32).toString('base64url')],
      dataEncryptionKey: key(),
      hmacKey: key(),
    };
    writeFileSync(SECRETS_FILE, JSON.stringify(secrets), { mode: 0o600 });
  }
  return SECRETS_FILE;
}

export function yitongEnv(databaseUrl: string, port: number) {
  return {
    NODE_ENV: 'production',
    ISSUER: 'https://id.bench.test',
    PORT: String(port),
    TRUST_PROXY: 'true',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: 'bench:',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'bench/tmp',
    SECRETS_FILE: benchSecrets(),
  };
}

export async function start(
  command: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...command], {
    // glibc's malloc tunables pass through (MALLOC_ARENA_MAX …): they shape the RSS under argon2id.
    env: {
      PATH: process.env.PATH,
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('MALLOC_'))),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => ready.test(chunk.toString()) && resolve());
  });
  return child;
}

/** Seeds up to `size` citizens who have all consented to the bench client, and registers it. */
export async function prepareYitong(
  size: number,
  databaseUrl: string,
  secret: string,
  log: (line: string) => void,
) {
  const container = await createContainer(
    loadConfig(yitongEnv(databaseUrl, 1)),
    createLogger({ logLevel: 'warn' }),
  );
  try {
    const { db } = container.database;
    let last = 0;
    await seedCitizens(
      { db, sealer: container.sealer },
      {
        citizens: size,
        password: PASSWORD,
        onProgress: (done, total) => {
          if (done - last >= total / 10 || done === total) {
            last = done;
            log(`  seeding citizens: ${done}/${total}`);
          }
        },
      },
    );
    // On a connection without the requests' timeouts: a million consents take longer than 10 s.
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      await admin.query(
        `INSERT INTO consents (person_id, client_id, scopes)
          SELECT id, $1, 'openid profile' FROM people WHERE id LIKE 'bench-%' ON CONFLICT DO NOTHING`,
        [CLIENT_ID],
      );
      // What two source departments verified about the first citizen (userinfo-verified).
      for (const [type, value] of VERIFIED)
        await admin.query(
          `INSERT INTO attributes (holder_id, type_code, value, verified_at, evidence, source_client_id)
            VALUES ('bench-0', $1, $2, now(), '{"type":"electronic_record"}', $3)
            ON CONFLICT (holder_id, type_code) DO NOTHING`,
          [type, JSON.stringify(value), CLIENT_ID],
        );
      // Fresh rows leave autovacuum work that would otherwise compete with the measurement.
      await admin.query('VACUUM ANALYZE people, consents');
    } finally {
      await admin.end();
    }
    const manifest = 'bench/tmp/bench-client.json';
    writeFileSync(
      manifest,
      JSON.stringify({
        client_id: CLIENT_ID,
        client_name: 'Benchmark site',
        department: 'Benchmark',
        region_code: '440100',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        scope: `openid profile offline_access ${VERIFIED.map(([type]) => `verified:${type}`).join(' ')}`,
      }),
    );
    await container.clients.add(manifest, { secret });
    return await peopleStorage(db);
  } finally {
    await container.close();
  }
}
