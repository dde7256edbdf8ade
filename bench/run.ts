/**
 * `npm run bench [-- <scenario>…] [--seconds N] [--citizens 10000,1000000] [--quick]`
 *
 * Starts Yitong in production mode on PostgreSQL + Redis pinned to core 0 and drives it from
 * core 1; then does the same against the bare oidc-provider engine (the ceiling). Prints a table
 * and writes bench/results/<date>.json; bench/report.ts turns that into RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type peopleStorage, syntheticIdNumber } from '../src/bench/seed.ts';
import { connectRedis, type RedisClient } from '../src/redis.ts';
import { type LoadResult, runLoad } from './driver.ts';
import { createTarget } from './http.ts';
import { pacedLoadAlone } from './paced.ts';
import type { Row } from './results.ts';
import { type BenchContext, SCENARIOS, type Scenario } from './scenarios.ts';
import { benchDatabaseUrl, PASSWORD, prepareYitong, REDIS_URL, start, yitongEnv } from './yitong.ts';

const { values, positionals } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    /** Measurements of each scenario's maximum; the row is their median, with all of them kept. */
    runs: { type: 'string', default: '3' },
    citizens: { type: 'string', default: '10000,1000000' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    /** Minutes of a mixed load at 70 % of the maximum, sampling the provider's RSS (no table). */
    soak: { type: 'string' },
  },
  allowPositionals: true,
});
const SECONDS = Number(values.seconds);
const RUNS = Math.max(1, Number(values.runs) || 1);
const SIZES = (values.quick ? '10000' : values.citizens).split(',').map(Number);
const unknown = positionals.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length) {
  process.stderr.write(
    `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = SCENARIOS.filter((s) => positionals.length === 0 || positionals.includes(s.name));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** CPU seconds used so far by the whole process and by its main thread (utime + stime, /proc). */
function cpuSeconds(pid: number): { process: number; main: number } {
  const ticks = (file: string) => {
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(file, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  return { process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Math.round(Number(line?.[1] ?? 0) / 1024);
}

async function measure(
  scenario: Scenario,
  context: BenchContext,
  pid: number,
  peakRss: { mib: number },
): Promise<Row> {
  // The scenario's own peak (row.rssPeakMiB) and the run's (peakRss).
  let own = 0;
  const sampler = setInterval(() => {
    own = Math.max(own, rssMiB(pid));
    peakRss.mib = Math.max(peakRss.mib, own);
  }, 500);
  const run = scenario.fixed ? await fixedRunner(scenario, context) : await flowRunner(scenario, context);
  await run(Math.min(2, SECONDS)); // warm-up: JIT, pools, caches
  // The median of RUNS measurements, so that a change is judged against the noise (row.runs).
  // CPU per operation as well as the rate: on a shared VM the rate swings with the neighbours,
  // the CPU an operation costs much less (row.cpuMs).
  const perStep = (used: number, steps: number) => Math.round((used * 1e5) / Math.max(1, steps)) / 100;
  const maxes: Array<LoadResult & { cpu: { process: number; main: number } }> = [];
  for (let i = 0; i < RUNS; i++) {
    const before = cpuSeconds(pid);
    const result = await run(SECONDS);
    const after = cpuSeconds(pid);
    const cpu = {
      process: perStep(after.process - before.process, result.steps),
      main: perStep(after.main - before.main, result.steps),
    };
    maxes.push({ ...result, cpu });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const max = [...maxes].sort((a, b) => a.perSecond - b.perSecond)[
    Math.floor(maxes.length / 2)
  ] as LoadResult;
  // p99 at 70 % of that rate, the median of RUNS paced runs too: one pause of this shared machine
  // decides a single run's tail. And the CPU per operation at that rate (row.cpuMsAt70).
  const paced: number[] = [];
  let pacedCpuMs: number | undefined;
  let driverDelay = 0;
  if (scenario.name !== 'password-signin' && max.perSecond > 0) {
    const before = cpuSeconds(pid);
    let steps = 0;
    for (let i = 0; i < RUNS; i++) {
      const result = await run(Math.max(3, SECONDS / 2), max.perSecond * 0.7);
      paced.push(result.p99);
      steps += result.steps;
      driverDelay = Math.max(driverDelay, result.driverDelayMax ?? 0);
    }
    pacedCpuMs = perStep(cpuSeconds(pid).process - before.process, steps);
  }
  clearInterval(sampler);
  const row: Row = {
    scenario: scenario.name,
    target: context.target.name,
    perSecond: max.perSecond,
    p50: max.p50,
    p99: max.p99,
    errors: maxes.reduce((sum, each) => sum + each.errors, 0),
    rssPeakMiB: own,
    cpuMs: {
      process: median(maxes.map((each) => each.cpu.process)),
      main: median(maxes.map((each) => each.cpu.main)),
    },
    ...(RUNS > 1 && { runs: maxes.map((each) => each.perSecond) }),
  };
  if (paced.length) {
    row.p99At70 = median(paced);
    row.cpuMsAt70 = pacedCpuMs;
    row.driverDelayAt70 = driverDelay;
    if (RUNS > 1) row.p99At70Runs = paced;
  }
  if (max.firstError) row.firstError = max.firstError;
  log(
    `  ${context.target.name.padEnd(6)} ${scenario.name.padEnd(18)} ${String(max.perSecond).padStart(6)}/s${row.runs ? ` (runs ${row.runs.join(', ')})` : ''}  p50 ${max.p50} ms  p99 ${max.p99} ms  CPU ${row.cpuMs?.process} ms/op (main ${row.cpuMs?.main})${row.p99At70 === undefined ? '' : `  p99@70% ${row.p99At70} ms${row.p99At70Runs ? ` (runs ${row.p99At70Runs.join(', ')})` : ''}, CPU ${row.cpuMsAt70} ms/op, driver's loop late ≤ ${row.driverDelayAt70} ms`}  errors ${max.errors}${max.firstError ? ` (${max.firstError})` : ''}`,
  );
  return row;
}

type Runner = (seconds: number, rate?: number) => Promise<LoadResult>;

/** Flows and changing requests: our undici driver, one state per virtual user. */
async function flowRunner(scenario: Scenario, context: BenchContext): Promise<Runner> {
  const { setup, step } = scenario.prepare?.(context) ?? { step: async () => {} };
  const states = await Promise.all(Array.from({ length: scenario.users }, (_, i) => setup?.(i)));
  return (seconds, rate) => {
    let index = 0;
    return runLoad({
      users: scenario.users,
      seconds,
      rate,
      setup: async () => states[index++] as never,
      step,
    });
  };
}

/**
 * A fixed request: autocannon at the maximum, `pacedLoad` (in a process of its own) when paced.
 * autocannon's `overallRate` does not pace: each connection sends its whole second's share at
 * once and then waits for the next second (1,000/s arrived as 1,000 in the first 100 ms of every
 * second, RESULTS.md, ninth pass), so its "70 %" was the maximum rate for 0.7 s of each second.
 */
async function fixedRunner(scenario: Scenario, context: BenchContext): Promise<Runner> {
  const request = await (scenario.fixed as NonNullable<Scenario['fixed']>)(context);
  const issuer = new URL(context.target.issuer);
  const headers: Record<string, string> = {
    host: issuer.host,
    'x-forwarded-proto': issuer.protocol.slice(0, -1),
    ...request.headers,
  };
  if (request.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const body = request.form && new URLSearchParams(request.form).toString();
  return async (seconds, rate) => {
    if (rate)
      return pacedLoadAlone(
        new URL(context.target.origin),
        { method: request.method, path: request.path, headers, body },
        { connections: scenario.users, rate, seconds },
      );
    const result = await autocannon({
      url: `${context.target.origin}${request.path}`,
      method: request.method,
      headers,
      body,
      connections: scenario.users,
      duration: seconds,
    });
    const errors = result.errors + result.timeouts + result.non2xx;
    return {
      steps: result.requests.total,
      errors,
      ...(errors && {
        firstError: `${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
      }),
      perSecond: Math.round(result.requests.total / seconds),
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
    };
  };
}

async function redisBytes(redis: RedisClient): Promise<number> {
  return Number((await redis.info('memory')).match(/used_memory:(\d+)/)?.[1]);
}

/** MEMORY USAGE of session records (the session and its uid index), averaged over a sample. */
async function sessionRecordBytes(redis: RedisClient): Promise<number> {
  const sizes: number[] = [];
  for await (const keys of redis.scanIterator({ MATCH: 'bench:Session:*', COUNT: 200 })) {
    for (const key of keys.slice(0, 100 - sizes.length)) {
      const uid = JSON.parse((await redis.hGet(key, 'payload')) ?? '{}').uid;
      sizes.push(
        ((await redis.memoryUsage(key)) ?? 0) +
          (uid ? ((await redis.memoryUsage(`bench:sessionUid:{${uid}}`)) ?? 0) : 0),
      );
    }
    if (sizes.length >= 100) break;
  }
  return Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(sizes.length, 1));
}

async function countKeys(redis: RedisClient, pattern: string): Promise<number> {
  let n = 0;
  for await (const keys of redis.scanIterator({ MATCH: pattern, COUNT: 1000 })) n += keys.length;
  return n;
}

async function clearPrefix(redis: RedisClient, prefix: string) {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
    if (keys.length) await redis.del(keys);
}

// ---- the run ----
const rows: Row[] = [];
const memory: Record<string, number> = {};
const redis = await connectRedis({ kind: 'single', url: REDIS_URL });
await clearPrefix(redis, 'bench:');

const storage: Record<number, Awaited<ReturnType<typeof peopleStorage>>> = {};
const secret = randomBytes(32).toString('base64url');

async function argon2Rate(): Promise<{ perSecond: number; cpuMs: number }> {
  // One pool thread: four time-sliced on one core made each 19 MiB verification cost 10–12 ms of
  // CPU, against 8 ms one at a time (RESULTS.md, fifth pass). The ceiling is the core at its best.
  const child = spawn('taskset', ['-c', '0', process.execPath, 'bench/argon2-rate.ts', '5'], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out);
}

log(`argon2id verify rate on one core…`);
const { perSecond: argon2PerSecond, cpuMs: argon2CpuMs } = await argon2Rate();
log(`  ${argon2PerSecond} verifications/s, ${argon2CpuMs} ms of CPU each`);

for (const [n, size] of SIZES.entries()) {
  log(`Yitong with ${size} citizens (PostgreSQL + Redis, production mode, core 0)…`);
  const databaseUrl = await benchDatabaseUrl(size);
  storage[size] = await prepareYitong(size, databaseUrl, secret, log);
  const port = 4700;
  const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', 'bench/tmp/profiles'] : [];
  const child = await start([...profile, 'src/main.ts'], yitongEnv(databaseUrl, port), /listening/);
  try {
    const target = createTarget('yitong', `http://127.0.0.1:${port}`, 'https://id.bench.test');
    const context: BenchContext = {
      target,
      secret,
      population: size,
      person: (i) => ({ idNumber: syntheticIdNumber(i % size), password: PASSWORD }),
    };
    await new Promise((resolve) => setTimeout(resolve, 1000));
    memory.rssAtRestMiB ??= rssMiB(child.pid as number);
    const peak = { mib: 0 };
    if (values.soak) {
      await soak(context, child.pid as number, Number(values.soak));
      break;
    }
    for (const scenario of n === 0 ? chosen : chosen.filter((s) => s.name === 'password-signin')) {
      const sessionsBefore = await countKeys(redis, 'bench:Session:*');
      const bytesBefore = await redisBytes(redis);
      const row = await measure(scenario, context, child.pid as number, peak);
      if (scenario.name === 'password-signin') {
        row.citizens = size;
        const sessions = (await countKeys(redis, 'bench:Session:*')) - sessionsBefore;
        if (sessions > 0) {
          memory.redisBytesPerSignIn = Math.round(((await redisBytes(redis)) - bytesBefore) / sessions);
          memory.redisBytesPerSession = await sessionRecordBytes(redis);
        }
      }
      rows.push(row);
    }
    memory.rssUnderLoadMiB = Math.max(memory.rssUnderLoadMiB ?? 0, peak.mib);
    await target.pool.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

if (values.soak) {
  await clearPrefix(redis, 'bench:');
  await redis.close();
  process.exit(0);
}

/**
 * A soak: every scenario at once, each paced to 70 % of its own maximum divided by their number
 * (so ~70 % of the core in all), for `minutes`; the provider's RSS sampled every 10 s. Growth is
 * counted from the end of a warm-up (5 minutes, or a sixth of a shorter run).
 */
async function soak(context: BenchContext, pid: number, minutes: number) {
  const mix = SCENARIOS.filter((s) => s.name !== 'jwks' && s.name !== 'introspection');
  const runnerOf = (scenario: Scenario) =>
    scenario.fixed ? fixedRunner(scenario, context) : flowRunner(scenario, context);
  const loads = [];
  for (const scenario of mix) {
    const run = await runnerOf(scenario);
    await run(2);
    const max = await run(5);
    loads.push({ scenario, name: scenario.name, run, rate: (max.perSecond * 0.7) / mix.length });
    log(
      `  soak: ${scenario.name} alone ${max.perSecond}/s → paced at ${Math.round((max.perSecond * 0.7) / mix.length)}/s`,
    );
  }
  const started = Date.now();
  const samples: Array<{ seconds: number; rssMiB: number }> = [];
  const sample = () =>
    samples.push({ seconds: Math.round((Date.now() - started) / 1000), rssMiB: rssMiB(pid) });
  sample();
  const sampler = setInterval(sample, 10_000);
  let steps = 0;
  let errors = 0;
  for (let minute = 1; Date.now() - started < minutes * 60_000; minute++) {
    const results = await Promise.all(loads.map((load) => load.run(60, load.rate)));
    // Fresh users every 5 minutes: their access tokens live 10 minutes, as a site's would.
    if (minute % 5 === 0) for (const load of loads) load.run = await runnerOf(load.scenario);
    for (const result of results) {
      steps += result.steps;
      errors += result.errors;
    }
    log(
      `  soak: ${Math.round((Date.now() - started) / 60_000)} min, RSS ${samples.at(-1)?.rssMiB} MiB, ${steps} steps, ${errors} errors`,
    );
  }
  clearInterval(sampler);
  sample();
  const warmUp = Math.min(300, (minutes * 60) / 6);
  const warm = samples.find((s) => s.seconds >= warmUp) ?? samples[0];
  const end = samples.at(-1);
  const summary = {
    date: new Date().toISOString(),
    minutes,
    rates: Object.fromEntries(loads.map((load) => [load.name, Math.round(load.rate)])),
    steps,
    errors,
    rssAtWarmUpMiB: warm?.rssMiB,
    rssAtEndMiB: end?.rssMiB,
    rssPeakMiB: Math.max(...samples.map((s) => s.rssMiB)),
    growthAfterWarmUp:
      warm && end ? Math.round(((end.rssMiB - warm.rssMiB) / warm.rssMiB) * 1000) / 1000 : undefined,
    samples,
  };
  const file = `bench/results/soak-${summary.date.slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  log(
    `  soak: RSS ${summary.rssAtWarmUpMiB} MiB after the warm-up, ${summary.rssAtEndMiB} MiB at the end (growth ${summary.growthAfterWarmUp}), peak ${summary.rssPeakMiB} MiB; written ${file}`,
  );
}

const bareChosen = chosen.filter((s) => s.bare);
if (bareChosen.length) {
  log('Bare oidc-provider (memory adapter, core 0)…');
  const port = 4701;
  const child = await start(
    ['bench/bare-provider.ts'],
    { PORT: String(port), CLIENT_SECRET: secret, PASSWORD },
    /ready/,
  );
  try {
    const target = createTarget('bare', `http://127.0.0.1:${port}`, `http://127.0.0.1:${port}`);
    const context: BenchContext = {
      target,
      secret,
      population: 1,
      person: (i) => ({ idNumber: `user-${i}`, password: PASSWORD }),
    };
    for (const scenario of bareChosen)
      rows.push(await measure(scenario, context, child.pid as number, { mib: 0 }));
    await target.pool.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
await clearPrefix(redis, 'bench:');
await redis.close();

const result = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  seconds: SECONDS,
  argon2PerSecond,
  argon2CpuMs,
  storage,
  memory,
  rows,
};
const file = `bench/results/${result.date.slice(0, 10)}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
log(`\nwritten ${file}`);
process.stdout.write(`${formatTable(result.rows, { perSecond: argon2PerSecond, cpuMs: argon2CpuMs })}\n`);

/** Each Yitong row beside its ceiling: the bare engine, or argon2id for password sign-ins. */
function formatTable(all: Row[], argon2: { perSecond: number; cpuMs: number }): string {
  const lines = [
    'scenario             yitong/s   bare/s  ratio   p50 ms  p99 ms  p99@70% ms  CPU ms/op (bare)  errors',
  ];
  for (const row of all.filter((r) => r.target === 'yitong')) {
    const bare = all.find((r) => r.target === 'bare' && r.scenario === row.scenario);
    const password = row.scenario === 'password-signin';
    // A password flow's ceiling is raw argon2id (the engine's own flow is printed below the table).
    const ceiling = password ? argon2.perSecond : bare?.perSecond;
    const label = row.citizens
      ? `${row.scenario} @${row.citizens >= 1e6 ? `${row.citizens / 1e6}M` : `${row.citizens / 1e3}k`}`
      : row.scenario;
    lines.push(
      [
        label.padEnd(20),
        String(row.perSecond).padStart(8),
        String(ceiling ?? '—').padStart(8),
        (ceiling ? (row.perSecond / ceiling).toFixed(2) : '—').padStart(6),
        String(row.p50).padStart(8),
        String(row.p99).padStart(7),
        String(row.p99At70 ?? '—').padStart(11),
        `${row.cpuMs?.process ?? '—'} (${password ? argon2.cpuMs : (bare?.cpuMs?.process ?? '—')})`.padStart(
          17,
        ),
        String(row.errors).padStart(7),
      ].join(' '),
    );
  }
  const engineFlow = all.find((r) => r.target === 'bare' && r.scenario === 'password-signin');
  const flows = all.filter((r) => r.target === 'yitong' && r.scenario === 'password-signin');
  if (engineFlow)
    lines.push(
      `password-signin on the engine (same argon2id check): ${engineFlow.perSecond}/s, ${engineFlow.cpuMs?.process} ms CPU/flow; Yitong ÷ engine ${flows.map((r) => (r.perSecond / engineFlow.perSecond).toFixed(2)).join(', ')}`,
    );
  return lines.join('\n');
}
