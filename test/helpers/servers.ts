/**
 * Private PostgreSQL and Redis servers for fault tests, on spare ports, started from Debian's
 * binaries: a test may stop and start them at will. It never touches the machine's shared ones.
 *
 * @example
 *   const postgres = await privatePostgres(t.teardown);
 *   await postgres.stop();   // pg_ctl stop -m fast
 *   await postgres.start();
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './yitong.ts';

const run = promisify(execFile);

async function postgresBin(name: string): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort();
  return `/usr/lib/postgresql/${versions.at(-1)}/bin/${name}`;
}

/** As the `postgres` user when the tests run as root (PostgreSQL refuses to run as root). */
async function asPostgres(command: string, args: string[]) {
  const binary = await postgresBin(command);
  return process.getuid?.() === 0
    ? run('runuser', ['-u', 'postgres', '--', binary, ...args])
    : run(binary, args);
}

export interface PrivatePostgres {
  url: string;
  port: number;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Hangs it (SIGSTOP to the server and its backends): connections stay open, nothing is answered. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export async function privatePostgres(teardown: (fn: () => Promise<void>) => void): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-pg-'));
  await chmod(dir, 0o777); // the postgres user writes here
  const data = join(dir, 'data');
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']).catch(() => {});
  };
  const signal = async (name: 'SIGSTOP' | 'SIGCONT') => {
    const [server = ''] = (await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n');
    const { stdout } = await run('pgrep', ['-P', server]);
    for (const pid of [server, ...stdout.split(/\s+/).filter(Boolean)]) process.kill(Number(pid), name);
  };
  await start();
  teardown(async () => {
    await signal('SIGCONT').catch(() => {});
    await stop('immediate');
    await rm(dir, { recursive: true, force: true });
  });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}

export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Hangs it (SIGSTOP): connections stay open and nothing is answered, until `resume`. */
  pause(): void;
  resume(): void;
}

export async function privateRedis(teardown: (fn: () => Promise<void>) => void): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'yitong-redis-'));
  teardown(() => rm(dir, { recursive: true, force: true }));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child?.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
      child?.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
  };
  const stop = async () => {
    const running = child;
    // Gone already: exited, or killed (a killed process has a signalCode and no exitCode).
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  teardown(stop);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}

/** A port whose cluster-bus port (+10000) is free too, below 55536. */
async function clusterPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await free(port)) && (await free(port + 10_000))) return port;
  }
}

export interface PrivateRedisCluster {
  /** `redis://127.0.0.1:<port>` of every node. */
  nodes: string[];
  /** The ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** SIGKILL, then until the live nodes have marked it failed. */
  kill(port: number): Promise<void>;
  /** Until every live node says the cluster is ok and every replica is in sync (a failover done). */
  healthy(): Promise<void>;
}

/** Three masters (or `masters`), each with a replica, of Debian's redis-server in cluster mode, on spare ports. */
export async function privateRedisCluster(
  teardown: (fn: () => Promise<void>) => void,
  masters = 3,
): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-redis-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 2 * masters; i++) ports.push(await clusterPort());
  const children = new Map<number, ChildProcess>();
  for (const port of ports) {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '1000',
        // A replica that never finished its first sync refuses to fail over ("disconnected from
        // master for longer than allowed"): sync at once instead of after the default 5 s.
        '--repl-diskless-sync-delay',
        '0',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.set(port, child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server ${port} exited with ${code}`)));
    });
  }
  const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  ]);
  const alive = () =>
    ports.filter((port) => children.get(port)?.exitCode === null && !children.get(port)?.killed);
  const healthy = async () => {
    for (let tries = 0; tries < 200; tries++) {
      const states = await Promise.all(
        alive().map(async (port) => {
          const [cluster, replication] = await Promise.all([
            cli(port, 'cluster', 'info'),
            cli(port, 'info', 'replication'),
          ]);
          return (
            cluster.stdout.includes('cluster_state:ok') &&
            (replication.stdout.includes('role:master') ||
              replication.stdout.includes('master_link_status:up'))
          );
        }),
      );
      if (states.every(Boolean)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the Redis cluster did not become healthy');
  };
  await healthy();
  teardown(async () => {
    for (const child of children.values()) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return {
    nodes: ports.map((port) => `redis://127.0.0.1:${port}`),
    async masters() {
      const [first] = alive();
      const { stdout } = await cli(first as number, 'cluster', 'nodes');
      return stdout
        .split('\n')
        .filter(
          (line) => / master /.test(` ${line.split(' ')[2]?.replace(/,/g, ' ')} `) && !line.includes('fail'),
        )
        .map((line) => Number(line.split(' ')[1]?.split(':')[1]?.split('@')[0]));
    },
    async kill(port) {
      const child = children.get(port);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const [witness] = alive();
      for (let tries = 0; tries < 100; tries++) {
        const { stdout } = await cli(witness as number, 'cluster', 'nodes');
        const flags = stdout
          .split('\n')
          .find((line) => line.includes(`:${port}@`))
          ?.split(' ')[2];
        if (flags?.split(',').includes('fail')) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the Redis cluster did not notice that :${port} is gone`);
    },
    healthy,
  };
}

export interface PrivateRedisSentinel {
  name: string;
  sentinels: string;
  masterPort: number;
  killMaster(): Promise<void>;
  hangMaster(): () => void;
}

/** A master, a replica and three sentinels watching them (`redis-server --sentinel`), on spare ports. */
export async function privateRedisSentinel(
  teardown: (fn: () => Promise<void>) => void,
): Promise<PrivateRedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-redis-sentinel-'));
  const children: ChildProcess[] = [];
  const serve = async (args: string[], ready: string) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk;
        if (output.includes(ready)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
    return child;
  };
  // Each in a directory of its own: replication writes an RDB file there, never in the checkout.
  const base = async (name: string) => {
    const own = join(dir, name);
    await mkdir(own);
    return ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', own];
  };
  const masterPort = await freePort();
  const master = await serve(
    ['--port', String(masterPort), ...(await base('master'))],
    'Ready to accept connections',
  );
  await serve(
    [
      '--port',
      String(await freePort()),
      ...(await base('replica')),
      '--replicaof',
      '127.0.0.1',
      String(masterPort),
    ],
    'MASTER <-> REPLICA sync: Finished',
  );
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    const config = join(dir, `sentinel-${port}.conf`);
    await writeFile(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor yitong 127.0.0.1 ${masterPort} 2`,
        'sentinel down-after-milliseconds yitong 1000',
        'sentinel failover-timeout yitong 3000',
        '',
      ].join('\n'),
    );
    await serve([config, '--sentinel'], '+monitor master');
  }
  teardown(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return {
    name: 'yitong',
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
    masterPort,
    async killMaster() {
      const exited = new Promise((resolve) => master.once('exit', resolve));
      master.kill('SIGKILL');
      await exited;
    },
    /** Stops the master (SIGSTOP: its connections stay open, nothing answers); returns how to resume it. */
    hangMaster() {
      master.kill('SIGSTOP');
      return () => master.kill('SIGCONT');
    },
  };
}

export interface PrivatePostgresPair {
  /** Through HAProxy, which sends connections to whichever server is the primary now. */
  url: string;
  /** Stops the primary at once and promotes the standby (the failover an HA manager would do). */
  failover(): Promise<void>;
}

/**
 * A primary and a streaming standby (`pg_basebackup -R`) of Debian's PostgreSQL on spare ports,
 * behind HAProxy whose check asks each server `pg_is_in_recovery()`: connections always reach the
 * primary, and those to a server that stops being it are cut.
 */
export async function privatePostgresPair(
  teardown: (fn: () => Promise<void>) => void,
): Promise<PrivatePostgresPair> {
  const primary = await privatePostgres(teardown);
  const dir = await mkdtemp(join(tmpdir(), 'yitong-pg-standby-'));
  await chmod(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  await asPostgres('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    data,
    '-R',
    '-X',
    'stream',
  ]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const check = join(dir, 'is-primary.sh');
  await writeFile(
    check,
    `#!/bin/sh\n[ "$(psql -h "$3" -p "$4" -U postgres -d postgres -tAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]\n`,
    { mode: 0o755 },
  );
  const front = await freePort();
  const config = join(dir, 'haproxy.cfg');
  await writeFile(
    config,
    `global
  external-check
  insecure-fork-wanted
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
listen postgres
  bind 127.0.0.1:${front}
  option external-check
  external-check path "/usr/bin:/bin"
  external-check command ${check}
  default-server inter 300ms fall 1 rise 1 on-marked-down shutdown-sessions
  server a 127.0.0.1:${primary.port} check
  server b 127.0.0.1:${port} check
`,
  );
  const haproxy = spawn('haproxy', ['-f', config, '-db'], { stdio: 'ignore' });
  teardown(async () => {
    haproxy.kill('SIGKILL');
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  const url = `postgres://postgres@127.0.0.1:${front}/postgres`;
  // Ready once HAProxy's checks have run: six connections in a row all reach the primary.
  const { default: pg } = await import('pg');
  const reachesPrimary = async () => {
    const probe = new pg.Client({ connectionString: url });
    // HAProxy may drop a probe between its query and its end: that is a failed probe, not a crash.
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.query('SELECT pg_is_in_recovery() AS standby')).rows[0]?.standby === false;
    } catch {
      return false;
    } finally {
      await probe.end().catch(() => {});
    }
  };
  for (let tries = 0, inARow = 0; inARow < 6; tries++) {
    inARow = (await reachesPrimary()) ? inARow + 1 : 0;
    if (tries > 200) throw new Error('HAProxy in front of PostgreSQL did not settle on the primary');
    if (inARow === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async failover() {
      await primary.stop('immediate');
      await asPostgres('pg_ctl', ['-D', data, '-w', 'promote']);
    },
  };
}
