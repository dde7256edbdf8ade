/**
 * Starts a real Yitong server for a test on a chosen backend: PostgreSQL + Redis, or the
 * embedded default (PGlite under a temporary DATA_DIR, no Redis). `restart()` stops it and
 * starts a new process-local server on the same storage.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/main.ts';
import {
  type Backend,
  clearRedis,
  connectRedis,
  createPostgresDatabase,
  REDIS_URL,
  redisPrefix,
} from './databases.ts';

export interface Yitong {
  issuer: string;
  backend: Backend;
  server: Awaited<ReturnType<typeof startServer>>;
  /** Registers a client from a manifest object; returns its id and secret. */
  addClient(manifest: Record<string, unknown>): Promise<{ clientId: string; clientSecret: string }>;
  /** Creates a citizen through the accounts service; returns the sub. */
  createCitizen(input: { idNumber: string; name: string; phone?: string; password: string }): Promise<string>;
  /** As if the person had proved the number with a code sent to it. */
  provePhone(sub: string, phone: string): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A port nothing listens on, below the kernel's range for outgoing connections (32768 and up on
 * Linux): one taken from that range may be an outgoing connection's by the time a server binds it.
 */
export async function freePort(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      // As the provider listens: every interface.
      server.listen(port, () => server.close(() => resolve(true)));
    });
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await free(port)) return port;
  }
}

/** `host`: 127.0.0.1 for a second provider beside one at localhost (a browser keeps their cookies apart). */
export async function startYitong(
  backend: Backend,
  extraEnv: Record<string, string> = {},
  host = 'localhost',
): Promise<Yitong> {
  const dataDir = await mkdtemp(join(tmpdir(), 'yitong-test-'));
  const prefix = redisPrefix();
  const postgres = backend === 'postgres' ? await createPostgresDatabase() : undefined;
  const port = await freePort(); // as late as it can be, so that nothing takes it meanwhile
  const env: Record<string, string> = {
    ISSUER: `http://${host}:${port}`,
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    // A loaded CI machine can take longer than production's 2 s to open a PostgreSQL connection
    // (a stopped server is refused at once, so outage tests still answer within a second; the
    // test of a hung one sets production's value again).
    DATABASE_CONNECT_TIMEOUT_MS: '30000',
    // Likewise a loaded machine can hold a Redis answer past production's 800 ms; the tests that
    // measure that deadline (an outage, a failover) set production's value again.
    REDIS_COMMAND_TIMEOUT_MS: '5000',
    ...(postgres && { DATABASE_URL: postgres.url, REDIS_URL, REDIS_PREFIX: prefix }),
    ...extraEnv,
  };
  const config = loadConfig(env);
  let server = await startServer(config);
  let manifests = 0;

  return {
    issuer: config.issuer,
    backend,
    get server() {
      return server;
    },
    async addClient(manifest) {
      const file = join(dataDir, `client-${++manifests}.json`);
      await writeFile(file, JSON.stringify(manifest));
      const result = await server.container.clients.add(file);
      return { clientId: result.clientId, clientSecret: result.generatedSecret ?? '' };
    },
    async createCitizen(input) {
      const sub = await server.container.accounts.register({ ...input, passwordConfirm: input.password });
      if (!sub) throw new Error('this identity number is registered already');
      return sub;
    },
    provePhone: (sub, phone) =>
      server.container.accountsRepo.setPhone(sub, phone, {
        actor: sub,
        action: 'phone.changed',
        subject: sub,
      }),
    async restart() {
      await server.stop();
      server = await startServer(config);
    },
    async stop() {
      await server.stop();
      if (postgres) {
        const redis = await connectRedis();
        await clearRedis(redis, prefix);
        await redis.close();
        await postgres.drop();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
