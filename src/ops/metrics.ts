/**
 * Operating figures for Prometheus (prom-client): HTTP rate and latency by route, sign-ins by
 * method, strength and result, token grants by type and site, rate-limit refusals, back-channel
 * logout deliveries, the PostgreSQL pool, dependency failures, and the process's own (event-loop
 * lag, memory, GC). Labels name routes, methods and sites — never a person, a number or a token.
 *
 * @example
 *   const metrics = createMetrics();
 *   metrics.signIns.inc({ method: 'pwd', acr: 'urn:yitong:acr:pwd', result: 'success' });
 *   ctx.body = await metrics.registry.metrics();
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    http: new Histogram({
      name: 'yitong_http_request_duration_seconds',
      help: 'HTTP requests by route, method and status class, and how long they took',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    signIns: new Counter({
      name: 'yitong_sign_ins_total',
      help: 'Sign-in steps by method (pwd, otp, passkey), the strength reached and the result',
      labelNames: ['method', 'acr', 'result'] as const,
      registers,
    }),
    grants: new Counter({
      name: 'yitong_token_grants_total',
      help: 'Tokens issued at the token endpoint by grant type and site',
      labelNames: ['grant_type', 'client'] as const,
      registers,
    }),
    refusals: new Counter({
      name: 'yitong_rate_limit_refusals_total',
      help: 'Requests refused by a rate limit, by limit',
      labelNames: ['limit'] as const,
      registers,
    }),
    backchannel: new Counter({
      name: 'yitong_backchannel_logouts_total',
      help: 'Back-channel logout deliveries to sites, by site and result',
      labelNames: ['client', 'result'] as const,
      registers,
    }),
    dependencyErrors: new Counter({
      name: 'yitong_dependency_errors_total',
      help: 'Failures reaching PostgreSQL or Redis',
      labelNames: ['dependency'] as const,
      registers,
    }),
    /** A gauge read when scraped: `read` gives its current value. */
    gauge(name: string, help: string, read: () => number) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
