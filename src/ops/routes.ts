/** Liveness and readiness for load balancers and orchestrators. */
import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import { sql } from 'kysely';
import type { Container } from '../container.ts';
import { pendingMigrations } from '../db/migrate.ts';
import { probeRedis } from '../redis.ts';

/** Each check answers within this, so /readyz itself answers within a second. */
const CHECK_MS = 800;

function within<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer in time')), CHECK_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const state = (promise: Promise<unknown>) =>
  within(promise).then(
    () => 'ok',
    () => 'unreachable',
  );

export function opsRoutes({
  database,
  redis,
  lifecycle,
  metrics,
  config,
}: Pick<Container, 'database' | 'redis' | 'lifecycle' | 'metrics' | 'config'>): Router {
  const router = new Router();
  // For Prometheus, behind a bearer token (METRICS_TOKEN); without one, there is nothing here.
  router.get('/metrics', async (ctx) => {
    if (!config.metricsToken) return;
    const given = Buffer.from(ctx.get('authorization'));
    const expected = Buffer.from(`Bearer ${config.metricsToken}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="yitong-metrics", error="invalid_token"');
      ctx.body = { error: 'invalid_token', error_description: 'send Authorization: Bearer <METRICS_TOKEN>' };
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Not ready while PostgreSQL or Redis cannot be reached, migrations are pending, or the node is
  // shutting down (the balancer then sends new requests elsewhere while this one drains).
  router.get('/readyz', async (ctx) => {
    const [databaseState, redisState] = await Promise.all([
      state(sql`SELECT 1`.execute(database.db)),
      redis ? state(probeRedis(redis)) : Promise.resolve('not configured'),
    ]);
    // Only a reachable database can say which migrations it lacks.
    const migrations =
      databaseState === 'ok'
        ? await within(pendingMigrations(database)).then(
            (pending) => (pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`),
            () => 'unknown',
          )
        : 'unknown';
    const checks = {
      database: databaseState,
      redis: redisState,
      migrations,
      ...(lifecycle.draining && { node: 'shutting down' }),
    };
    const ready =
      databaseState === 'ok' && migrations === 'ok' && redisState !== 'unreachable' && !lifecycle.draining;
    ctx.status = ready ? 200 : 503;
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
  return router;
}
