/**
 * `npm run bench:publish`: how fast a source department's bulk publication goes into PostgreSQL —
 * 10,000-line JSON Lines requests to /sources/v1/attributes/bulk, each line a verified education
 * record of one of 10,000 seeded citizens, through the real HTTP API (Yitong on PostgreSQL +
 * Redis, in this process: the driver only sends a few large requests). Writes
 * bench/results/publish-<date>.json.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedCitizens, syntheticIdNumber } from '../src/bench/seed.ts';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/main.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, lines: { type: 'string', default: '10000' } },
});
const ROUNDS = Number(values.rounds);
const LINES = Number(values.lines);
const BASE = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'yitong_bench_publish';

const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
if (!(await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])).rowCount)
  await admin.query(`CREATE DATABASE ${DATABASE}`);
await admin.end();
const databaseUrl = `${BASE.replace(/\/[^/]*$/, '')}/${DATABASE}`;

const env = {
  NODE_ENV: 'development',
  ISSUER: 'http://localhost:4791',
  PORT: '4791',
  DATABASE_URL: databaseUrl,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'bench-publish:',
  LOG_LEVEL: 'warn',
  DATA_DIR: 'bench/tmp',
};
const config = loadConfig(env);
const server = await startServer(config);
const { container } = server;
process.stdout.write(`seeding ${LINES} citizens…\n`);
await seedCitizens(
  { db: container.database.db, sealer: container.sealer },
  { citizens: LINES, password: 'bench password 2026' },
);
const { clientId, generatedSecret } = await container.clients.create(
  {
    client_id: `bench-source-${Date.now()}`,
    client_name: '学历数据发布（压测）',
    department: '省教育厅',
    region_code: '440000',
    grant_types: ['client_credentials'],
    publishes: ['education'],
  },
  { actor: 'cli', action: 'client.created', subject: 'bench-source' },
);
const token = (await (
  await fetch(`${config.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${generatedSecret}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  })
).json()) as { access_token: string };

const body = (round: number) =>
  Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({
      holder: { id_number: syntheticIdNumber(i) },
      type: 'education',
      value: { level: '本科', institution: `第${round}轮示范大学`, graduated_on: '2015-06-30' },
      verified_at: '2026-11-30T10:00:00+08:00',
      evidence: { type: 'electronic_record' },
    }),
  ).join('\n');

const rounds: Array<{ seconds: number; perSecond: number; stored: number }> = [];
for (let round = 0; round < ROUNDS; round++) {
  const text = body(round);
  const started = performance.now();
  const answer = await fetch(`${config.issuer}/sources/v1/attributes/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token.access_token}` },
    body: text,
  });
  const results = (await answer.text()).trim().split('\n');
  const seconds = (performance.now() - started) / 1000;
  const stored = results.filter((line) => line.includes('"stored"')).length;
  rounds.push({
    seconds: Math.round(seconds * 1000) / 1000,
    perSecond: Math.round(stored / seconds),
    stored,
  });
  process.stdout.write(
    `  round ${round + 1}: ${stored} stored in ${seconds.toFixed(2)} s → ${Math.round(stored / seconds)}/s\n`,
  );
}
const sorted = rounds.map((r) => r.perSecond).sort((a, b) => a - b);
const result = {
  date: new Date().toISOString(),
  lines: LINES,
  rounds,
  medianPerSecond: sorted[Math.floor(sorted.length / 2)],
};
const file = `bench/results/publish-${result.date.slice(0, 10)}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`median ${result.medianPerSecond} attributes/s; written ${file}\n`);
await server.stop();
process.exit(0);
