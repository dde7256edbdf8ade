/** Liveness and readiness for load balancers and orchestrators. */
import Router from '@koa/router';
import { sql } from 'kysely';
import type { Container } from '../container.ts';
import { pendingMigrations } from '../db/migrate.ts';

export function opsRoutes({ database, redis }: Pick<Container, 'database' | 'redis'>): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Not ready while PostgreSQL or Redis cannot be reached or migrations are pending.
  router.get('/readyz', async (ctx) => {
    const checks = {
      database: await sql`SELECT 1`.execute(database.db).then(
        () => 'ok',
        () => 'unreachable',
      ),
      redis: redis
        ? await redis.ping().then(
            () => 'ok',
            () => 'unreachable',
          )
        : 'not configured',
      migrations: await pendingMigrations(database).then(
        (pending) => (pending.length === 0 ? 'ok' : `pending: ${pending.join(', ')}`),
        () => 'unknown',
      ),
    };
    const ready = checks.database === 'ok' && checks.migrations === 'ok' && checks.redis !== 'unreachable';
    ctx.status = ready ? 200 : 503;
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
  return router;
}
