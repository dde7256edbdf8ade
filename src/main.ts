/**
 * Starts Yitong: configuration → container (migrations, keys) → HTTP server; stops gracefully
 * on SIGTERM/SIGINT. A bad configuration stops start-up with one line naming the variable.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { requestListener } from './app.ts';
import { sweepExpiredEphemeral } from './auth/ephemeral.ts';
import { type Config, loadConfig } from './config.ts';
import { createContainer } from './container.ts';
import { sweepExpiredArtifacts } from './oidc/adapters/sql.ts';
import { answerClientError } from './web/client-error.ts';

export async function startServer(config: Readonly<Config>) {
  const started = performance.now();
  const container = await createContainer(config);
  await container.followChanges();
  const server = createServer(requestListener(container)).listen(config.port);
  // Longer than load balancers' idle timeouts (often 60 s): the server must not close a kept-alive
  // connection just as the balancer (or a client) sends the next request on it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Node's default waits five minutes for a request's body: a client sending it a byte at a time
  // (or declaring more than it sends) would hold a connection that long. Counted from the
  // request's first byte, headers included, not from the kept-alive wait before it.
  server.requestTimeout = config.timeouts.requestMs;
  server.on('clientError', answerClientError);
  await once(server, 'listening');
  const sweeper = container.redis
    ? undefined
    : setInterval(
        () =>
          void Promise.all([
            sweepExpiredArtifacts(container.database.db),
            sweepExpiredEphemeral(container.database.db),
          ]).catch(() => {}),
        10 * 60_000,
      ).unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    container,
    server,
    port,
    startupMs: Math.round(performance.now() - started),
    /**
     * Graceful: /readyz turns 503 and responses ask to close their connection, no new connection
     * is accepted, requests in flight finish (cut after SHUTDOWN_GRACE_MS), then the pools close.
     */
    async stop() {
      container.lifecycle.draining = true;
      clearInterval(sweeper);
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), config.timeouts.shutdownGraceMs);
      await closed;
      clearTimeout(cut);
      await container.close();
    },
  };
}

if (import.meta.main) {
  try {
    const config = loadConfig();
    const running = await startServer(config);
    const backend = `${running.container.database.kind}${running.container.redis ? ' + redis' : ''}`;
    process.stdout.write(
      `Yitong is listening on ${config.issuer} (port ${running.port}, ${backend}), started in ${running.startupMs} ms\n`,
    );
    if (config.production && !config.databaseUrl)
      process.stderr.write(
        'Yitong runs in production on the embedded database: one process on one machine, for a trial only; set DATABASE_URL (and REDIS_URL) to run nodes side by side\n',
      );
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        process.stdout.write(`${signal}: finishing the requests in flight, then stopping\n`);
        running.stop().then(
          () => process.exit(0),
          (error: Error) => {
            process.stderr.write(`Yitong did not stop cleanly: ${error.message}\n`);
            process.exit(1);
          },
        );
      });
    }
  } catch (error) {
    // One line naming the problem (ConfigError names the variable): no stack trace for operators.
    const { code, port } = error as { code?: string; port?: number };
    const message =
      code === 'EADDRINUSE'
        ? `port ${port} is in use by another program: stop it, or choose another with PORT`
        : (error as Error).message;
    process.stderr.write(`Yitong cannot start: ${message}\n`);
    process.exit(1);
  }
}
