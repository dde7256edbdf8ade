/**
 * Several Yitong processes behind HAProxy (Debian's), as a province runs them: each node a real
 * `node src/main.ts` that can be sent SIGTERM or killed, HAProxy checking /readyz and retrying
 * a request a node could not take on another.
 *
 * @example
 *   const cluster = await startCluster(t.teardown, { nodes: 2, env });
 *   await cluster.nodes[0].stop('SIGTERM');
 *   await cluster.nodes[0].start();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './yitong.ts';

const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

export interface Node {
  port: number;
  url: string;
  pid(): number | undefined;
  start(): Promise<void>;
  /** SIGTERM: resolves with the exit code once the process has drained and exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
}

/** What every node shares: one issuer (the balancer), the same secrets, the same storage. */
export function sharedEnv(issuer: string, storage: Record<string, string>): Record<string, string> {
  const key = () => randomBytes(32).toString('base64');
  return {
    ISSUER: issuer,
    COOKIE_KEYS: randomBytes(32).toString('base64url'),
    DATA_ENCRYPTION_KEY: key(),
    HMAC_KEY: key(),
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '5000',
    ...storage,
  };
}

function startNode(port: number, env: Record<string, string>, dataDir: string): Node {
  let child: ChildProcess | undefined;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: () => child?.pid,
    async start() {
      const started = spawn(NODE, [MAIN], {
        env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk;
          if (output.includes('Yitong is listening')) resolve();
        };
        started.stdout?.on('data', onData);
        started.stderr?.on('data', (chunk: Buffer) => {
          output += chunk;
        });
        started.once('exit', (code) => reject(new Error(`node exited with ${code}: ${output}`)));
      });
    },
    async stop(signal = 'SIGTERM') {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null)
        return running?.exitCode ?? null;
      const exited = new Promise<number | null>((resolve) => running.once('exit', (code) => resolve(code)));
      running.kill(signal);
      return exited;
    },
  };
}

export async function startCluster(
  teardown: (fn: () => Promise<void>) => void,
  options: { nodes: number; env: (issuer: string) => Record<string, string> },
) {
  const dir = await mkdtemp(join(tmpdir(), 'yitong-cluster-'));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const env = options.env(issuer);
  const nodes: Node[] = [];
  for (let i = 0; i < options.nodes; i++)
    nodes.push(startNode(await freePort(), env, join(dir, `node-${i}`)));
  // Nodes one after the other: the first applies the migrations, the others find them done.
  for (const node of nodes) await node.start();

  const config = join(dir, 'haproxy.cfg');
  await writeFile(
    config,
    `global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option redispatch
  retries 3
  retry-on conn-failure empty-response response-timeout 503
frontend yitong
  bind 127.0.0.1:${port}
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fall 1 rise 1
${nodes.map((node, i) => `  server node${i} 127.0.0.1:${node.port} check`).join('\n')}
`,
  );
  const haproxy = spawn('haproxy', ['-f', config, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let haproxyLog = '';
  haproxy.stderr?.on('data', (chunk: Buffer) => {
    haproxyLog += chunk;
  });
  // Ready when it answers through a node.
  for (let tries = 0; ; tries++) {
    const ok = await fetch(`${issuer}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (tries > 100) throw new Error(`HAProxy did not come up: ${haproxyLog}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  teardown(async () => {
    haproxy.kill('SIGKILL');
    for (const node of nodes) await node.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  return { issuer, nodes, env };
}

/**
 * Keeps `concurrency` requests in flight until stopped; counts what answered and what failed
 * (an error status, or no answer at all).
 */
export function load(requests: Array<() => Promise<Response>>, concurrency = 4) {
  let running = true;
  const counts = { ok: 0, failed: 0, failures: [] as string[] };
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; running; i++) {
      const request = requests[i % requests.length] as () => Promise<Response>;
      try {
        const response = await request();
        await response.arrayBuffer();
        if (response.status >= 500) {
          counts.failed++;
          counts.failures.push(`${response.status} ${response.url}`);
        } else counts.ok++;
      } catch (error) {
        counts.failed++;
        counts.failures.push(String((error as Error & { cause?: Error }).cause ?? error));
      }
    }
  });
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(workers);
      return counts;
    },
  };
}
