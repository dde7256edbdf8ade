/** What the provider does, for the metrics (ops/metrics.ts). */
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Database } from '../db/database.ts';
import type { Metrics } from '../ops/metrics.ts';

/** Counted: grants by type and site, back-channel logouts (a failed one logged); the pool, read when scraped. */
export function observeProvider(
  provider: Provider,
  metrics: Metrics,
  database: Database,
  logger: Pick<Logger, 'warn'>,
) {
  provider.on('grant.success', (ctx) =>
    metrics.grants.inc({
      grant_type: String(ctx.oidc.params?.grant_type ?? ''),
      client: ctx.oidc.client?.clientId ?? '',
    }),
  );
  provider.on('backchannel.success', (_ctx, client) =>
    metrics.backchannel.inc({ client: client.clientId, result: 'delivered' }),
  );
  provider.on('backchannel.error', (_ctx, error, client) => {
    metrics.backchannel.inc({ client: client.clientId, result: 'failed' });
    logger.warn({ err: error, client: client.clientId }, 'back-channel logout not delivered');
  });
  const { pool } = database;
  if (!pool) return;
  metrics.gauge('yitong_pg_pool_connections', 'PostgreSQL connections open', pool.total);
  metrics.gauge('yitong_pg_pool_idle', 'PostgreSQL connections idle', pool.idle);
  metrics.gauge('yitong_pg_pool_waiting', 'Queries waiting for a PostgreSQL connection', pool.waiting);
}
