/**
 * `npm run bench:peers [-- --seconds 10 --runs 3]`
 *
 * Yitong side by side with two providers nobody on the team wrote, in one run on this machine:
 * LemonLDAP::NG 2.16 (Perl behind nginx, sessions in Redis) and Glewlwyd 2.7 (C, SQLite), both
 * from Debian, set up from scratch on spare ports by bench/peers/*.sh. Each server runs on core 0
 * (Yitong on PostgreSQL + Redis, as in production); wrk drives it from core 1 with 1 thread × 2
 * connections: client credentials, UserInfo, discovery, the three providers measured in turn.
 * Each row is the median of `--runs` runs after a warm-up. Writes
 * bench/results/peers-<date>.json and prints the table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { syntheticIdNumber } from '../src/bench/seed.ts';
import { basicAuth, CLIENT_ID, codeFlow, Jar } from './flows.ts';
import { createTarget } from './http.ts';
import { benchDatabaseUrl, PASSWORD, prepareYitong, start, yitongEnv } from './yitong.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' } },
});
const SECONDS = Math.max(1, Number(values.seconds) || 10);
const RUNS = Math.max(1, Number(values.runs) || 3);
const TMP = 'bench/tmp/peers';
const log = (line: string) => process.stderr.write(`${line}\n`);

const missing = ['wrk', 'lemonldap-ng', 'lemonldap-ng-fastcgi-server', 'glewlwyd', 'nginx'].filter(
  (pkg) => spawnSync('dpkg', ['-s', pkg], { stdio: 'ignore' }).status !== 0,
);
if (missing.length) {
  log(
    `missing Debian packages: ${missing.join(' ')}; install them with apt-get install ${missing.join(' ')}`,
  );
  process.exit(2);
}

/** One request wrk repeats. */
interface Request {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

interface Measured {
  perSecond: number;
  p50: number;
  p99: number;
  runs: number[];
  errors: number;
}

const luaString = (value: string) => JSON.stringify(value); // a JSON string is a valid Lua string here

interface Once {
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One wrk run of `request`, 1 thread × 2 connections, on core 1. */
function wrk(name: string, request: Request): (seconds: number) => Once {
  const script = `${TMP}/${name}.lua`;
  writeFileSync(
    script,
    [
      `wrk.method = ${luaString(request.method)}`,
      ...(request.body ? [`wrk.body = ${luaString(request.body)}`] : []),
      ...Object.entries(request.headers).map(
        ([key, value]) => `wrk.headers[${luaString(key)}] = ${luaString(value)}`,
      ),
      // The first failure's status and body, to say what went wrong.
      'local told = false',
      'function response(status, headers, body)',
      '  if status >= 300 and not told then',
      '    told = true',
      '    io.stderr:write("first failure: HTTP " .. status .. " " .. body:sub(1, 300) .. "\\n")',
      '  end',
      'end',
    ].join('\n'),
  );
  return (seconds) => {
    const out = execFileSync(
      'taskset',
      ['-c', '1', 'wrk', '-t1', '-c2', `-d${seconds}s`, '--latency', '-s', script, request.url],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const ms = (label: string) => {
      const [, value = '0', unit = 'ms'] = out.match(new RegExp(`${label}\\s+([\\d.]+)(us|ms|s)`)) ?? [];
      return Math.round(Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit as 'us' | 'ms' | 's'] * 100) / 100;
    };
    const errors =
      Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0) +
      [...(out.match(/Socket errors: (.*)/)?.[1] ?? '').matchAll(/\d+/g)].reduce(
        (sum, [n]) => sum + Number(n),
        0,
      );
    return {
      perSecond: Math.round(Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0)),
      p50: ms('50%'),
      p99: ms('99%'),
      errors,
    };
  };
}

interface Requests {
  clientCredentials: Request;
  userinfo: Request;
  discovery: Request;
}

/** A provider started and ready to be measured. */
interface Target {
  name: string;
  version: string;
  requests: Requests;
  stop(): Promise<void> | void;
}

async function startYitong(): Promise<Target> {
  log('Yitong (PostgreSQL + Redis, production mode, core 0)…');
  const secret = randomBytes(32).toString('base64url');
  const databaseUrl = await benchDatabaseUrl(10_000);
  await prepareYitong(10_000, databaseUrl, secret, log);
  const port = 4702;
  const child = await start(['src/main.ts'], yitongEnv(databaseUrl, port), /listening/);
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  };
  try {
    const origin = `http://127.0.0.1:${port}`;
    const target = createTarget('yitong', origin, 'https://id.bench.test');
    const { access_token } = await codeFlow(target, new Jar(), secret, {
      scope: 'openid profile',
      who: { idNumber: syntheticIdNumber(0), password: PASSWORD },
    });
    await target.pool.close();
    // The headers of the TLS-terminating proxy Yitong runs behind in production.
    const proxy = { Host: 'id.bench.test', 'x-forwarded-proto': 'https' }; // wrk sends its own Host unless told "Host"
    return {
      name: 'Yitong',
      version: process.env.npm_package_version ?? '',
      stop,
      requests: {
        clientCredentials: {
          method: 'POST',
          url: `${origin}/token`,
          headers: { ...proxy, ...basicAuth(secret), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        },
        userinfo: {
          method: 'GET',
          url: `${origin}/me`,
          headers: { ...proxy, authorization: `Bearer ${access_token}` },
        },
        discovery: { method: 'GET', url: `${origin}/.well-known/openid-configuration`, headers: proxy },
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What bench/peers/<name>.sh start prints. */
interface Peer {
  name: string;
  version: string;
  discovery: string;
  token: string;
  userinfo: string;
  clientId: string;
  clientSecret: string;
  ccScope: string;
  username: string;
  password: string;
  userScope: string;
}

async function startPeer(script: string, port: number): Promise<Target> {
  const dir = `${TMP}/${script}`;
  const peer = JSON.parse(
    execFileSync(`bench/peers/${script}.sh`, ['start', String(port), dir], { encoding: 'utf8' }),
  ) as Peer;
  log(`${peer.name} ${peer.version} (core 0)…`);
  const stop = () => {
    execFileSync(`bench/peers/${script}.sh`, ['stop', dir], { stdio: 'inherit' });
  };
  try {
    const basic = `Basic ${Buffer.from(`${peer.clientId}:${peer.clientSecret}`).toString('base64')}`;
    const form = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
    const password = await fetch(peer.token, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({
        grant_type: 'password',
        username: peer.username,
        password: peer.password,
        scope: peer.userScope,
      }),
    });
    if (!password.ok)
      throw new Error(`${peer.name}: no user token (HTTP ${password.status} ${await password.text()})`);
    const { access_token } = (await password.json()) as { access_token: string };
    return {
      name: peer.name,
      version: peer.version,
      stop,
      requests: {
        clientCredentials: {
          method: 'POST',
          url: peer.token,
          headers: form,
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: peer.ccScope }).toString(),
        },
        userinfo: { method: 'GET', url: peer.userinfo, headers: { authorization: `Bearer ${access_token}` } },
        discovery: { method: 'GET', url: peer.discovery, headers: {} },
      },
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/**
 * Every scenario measured on the three in turn (Yitong, LemonLDAP::NG, Glewlwyd; run 1 of each,
 * then run 2 …) while all three are up and the two not measured idle: a machine that slows down
 * during the run slows all three alike.
 */
function measure(targets: Target[]): Array<Record<string, Measured>> {
  const rows = targets.map(() => ({}) as Record<string, Measured>);
  for (const scenario of Object.keys(targets[0]?.requests ?? {}) as Array<keyof Requests>) {
    const runners = targets.map((target) => wrk(`${target.name}-${scenario}`, target.requests[scenario]));
    for (const once of runners) once(Math.min(2, SECONDS)); // warm-up
    const runs: Once[][] = targets.map(() => []);
    for (let i = 0; i < RUNS; i++) for (const [t, once] of runners.entries()) runs[t]?.push(once(SECONDS));
    for (const [t, target] of targets.entries()) {
      const all = runs[t] ?? [];
      const median = [...all].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(all.length / 2)];
      const row = {
        perSecond: median?.perSecond ?? 0,
        p50: median?.p50 ?? 0,
        p99: median?.p99 ?? 0,
        runs: all.map((run) => run.perSecond),
        errors: all.reduce((sum, run) => sum + run.errors, 0),
      };
      (rows[t] as Record<string, Measured>)[scenario] = row;
      log(
        `  ${target.name.padEnd(14)} ${scenario.padEnd(18)} ${String(row.perSecond).padStart(6)}/s (runs ${row.runs.join(', ')})  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}`,
      );
    }
  }
  return rows;
}

mkdirSync(TMP, { recursive: true });
const started: Target[] = [];
let rows: Array<Record<string, Measured>>;
try {
  started.push(await startYitong());
  started.push(await startPeer('lemonldap', 20480));
  started.push(await startPeer('glewlwyd', 20490));
  rows = measure(started);
} finally {
  for (const target of started) await target.stop();
}
const targets = started.map(({ name, version }, t) => ({ name, version, rows: rows[t] ?? {} }));
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  method: `wrk -t1 -c2, ${RUNS} runs of ${SECONDS} s after a warm-up, the three providers in turn, medians; servers on core 0, wrk on core 1`,
  client: CLIENT_ID,
  targets,
};
const file = `bench/results/peers-${result.date.slice(0, 10)}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
log(`\nwritten ${file}`);
const scenarios = ['clientCredentials', 'userinfo', 'discovery'];
process.stdout.write(
  `${['scenario'.padEnd(18), ...targets.map((t) => t.name.padStart(16))].join(' ')}\n${scenarios
    .map((scenario) =>
      [
        scenario.padEnd(18),
        ...targets.map((t) => {
          const row = t.rows[scenario];
          return `${row?.perSecond}/s p50 ${row?.p50}`.padStart(16);
        }),
      ].join(' '),
    )
    .join('\n')}\n`,
);
