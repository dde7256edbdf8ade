/** What the provider does, for the metrics (ops/metrics.ts). */
import type Provider from 'oidc-provider';
import type { Database } from '../db/database.ts';
import type { Metrics } from '../ops/metrics.ts';

/** Counted: grants by type and site, back-channel logouts; the pool, read when scraped. */
export function observeProvider(provider: Provider, metrics: Metrics, database: Database) {
  provider.on('grant.success', (ctx) =>
    metrics.grants.inc({
      grant_type: String(ctx.oidc.params?.grant_type ?? ''),
      client: ctx.oidc.client?.clientId ?? '',
    }),
  );
  provider.on('backchannel.success', (_ctx, client) =>
    metrics.backchannel.inc({ client: client.clientId, result: 'delivered' }),
  );
  provider.on('backchannel.error', (_ctx, _error, client) =>
    metrics.backchannel.inc({ client: client.clientId, result: 'failed' }),
  );
  const { pool } = database;
  if (!pool) return;
  metrics.gauge('yitong_pg_pool_connections', 'PostgreSQL connections open', pool.total);
  metrics.gauge('yitong_pg_pool_idle', 'PostgreSQL connections idle', pool.idle);
  metrics.gauge('yitong_pg_pool_waiting', 'Queries waiting for a PostgreSQL connection', pool.waiting);
}
