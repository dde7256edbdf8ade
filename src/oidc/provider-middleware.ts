/**
 * The provider's own middleware (mounted with `provider.use` in provider.ts): discovery and the
 * JWKS made once, and an outage answered as a 503 `temporarily_unavailable`. Scopes a site may
 * not have are dropped in scope-narrowing.ts.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { RETRY_AFTER_SECONDS } from '../outage.ts';
import { noneMatch } from '../web/etag.ts';
import { giveBackSpent, settleWrites } from './adapters/request-writes.ts';
import { JWKS_MAX_AGE_SECONDS } from './keys.ts';
import { outagePage } from './pages.ts';

type Page = { body: string; headers: Record<string, string>; etag: string };

/** Where an instance keeps its made pages: read through the swappable provider, so a new instance starts empty. */
const PAGES = Symbol('precomputed pages');

/**
 * Discovery and the JWKS are the same bytes for every request of an instance (a rotated key
 * builds a new one, oidc/swappable.ts): made once by the engine, then served with its headers as
 * they were (the CORS origin named anew for each request), an `ETag` (a matching `If-None-Match`
 * gets 304) and five minutes of `Cache-Control`: a rotated key is published a day before it signs
 * (keys.ts), many times that.
 */
export function precomputed(provider: Provider, paths: string[]) {
  const made = new Map<string, Page>();
  (provider as unknown as Record<symbol, unknown>)[PAGES] = made;
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    // HEAD too: a probe of the JWKS gets the same caching headers as its GET. The engine answers
    // each path with a trailing slash as well (`/jwks/`): the same page.
    const path = ctx.path.length > 1 && ctx.path.endsWith('/') ? ctx.path.slice(0, -1) : ctx.path;
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !paths.includes(path)) return next();
    let page = made.get(path);
    if (!page) {
      await next();
      if (ctx.status !== 200) return;
      const body = typeof ctx.body === 'string' ? ctx.body : JSON.stringify(ctx.body);
      const headers = Object.fromEntries(
        Object.entries(ctx.response.headers)
          .filter(
            ([name]) =>
              !['content-length', 'date', 'set-cookie', 'connection', 'access-control-allow-origin'].includes(
                name,
              ),
          )
          .map(([name, value]) => [name, String(value)]),
      );
      page = {
        body,
        headers,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      };
      made.set(path, page);
    }
    serve(ctx, page);
  };
}

/** The pages made are made again on their next request: what they say changed (the JWKS's keys). */
export function forgetPrecomputed(provider: Provider) {
  (provider as unknown as Record<symbol, Map<string, Page> | undefined>)[PAGES]?.clear();
}

/** The JWKS, at any path the engine answers it, without the keys `unpublished` names (keys.ts). */
export function leaveOutUnpublished(unpublished: () => readonly string[]) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.oidc?.route !== 'jwks' || ctx.status !== 200) return;
    const hidden = unpublished();
    // A new object of the engine's (its keys are shared): changed in place, as `ctx.body =` would make it plain JSON.
    const jwks = ctx.body as { keys: Array<{ kid: string }> };
    jwks.keys = jwks.keys.filter((key) => !hidden.includes(key.kid));
  };
}

/**
 * The pages the current instance has made, answered straight from the HTTP server, before Koa
 * builds a context for the request (most of a discovery request's cost). `headers` are the ones
 * every response carries. A page not made yet, or a conditional or unusual request, goes on to
 * the application (false), which answers it as any other. The caller applies the production
 * origin rule first (app.ts).
 */
export function answerPrecomputed(provider: Provider, headers: Record<string, string>) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const made = (provider as unknown as Record<symbol, Map<string, Page> | undefined>)[PAGES];
    const page = req.method === 'GET' && req.url ? made?.get(req.url) : undefined;
    if (!page || req.headers['if-none-match'] !== undefined) return false;
    res.writeHead(200, {
      ...headers,
      ...headersOf(page, req.headers.origin),
      'content-length': Buffer.byteLength(page.body),
    });
    res.end(page.body);
    return true;
  };
}

/** A made page's headers for a request from `origin`. */
function headersOf(page: Page, origin: string | undefined): Record<string, string> {
  return {
    ...page.headers,
    etag: page.etag,
    'cache-control': `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
    // Open to every origin, as the engine's own answer is (it names the request's origin).
    'access-control-allow-origin': origin || '*',
  };
}

function serve(ctx: Koa.Context, page: Page) {
  ctx.set(headersOf(page, ctx.get('origin')));
  if (noneMatch(ctx.get('if-none-match'), page.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.status = 200;
  ctx.body = page.body;
}

/**
 * A protocol endpoint that failed because PostgreSQL or Redis is unreachable answers 503
 * `temporarily_unavailable` with Retry-After (RFC 6749 §4.1.2.1), not a 500 `server_error`,
 * and sets no cookie: a logout whose writes failed keeps the browser's session to try again.
 * Nothing leaves before the Redis writes the request sent without waiting are stored
 * (adapters/request-writes.ts).
 */
export async function outageAnswer(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
  let failed: unknown;
  try {
    await next();
  } finally {
    await settleWrites(ctx).catch((error) => {
      failed = error;
      // As the engine reports its own errors: an outage marks the request, anything else is logged.
      ctx.oidc.provider.emit('server_error', ctx, error);
    });
  }
  if (failed && !ctx.state.outage) throw failed;
  if (!ctx.state.outage) return;
  // A code exchange or a refresh whose code or token was spent: the retry works.
  await giveBackSpent(ctx);
  ctx.remove('set-cookie');
  if (ctx.status === 503) return;
  ctx.remove('location');
  // A person's browser (a write failed after the engine had answered) gets the page.
  if (ctx.accepts('json', 'html') === 'html') return outagePage(ctx);
  temporarilyUnavailable(ctx);
}

/** A protocol endpoint's answer in an outage: 503 `temporarily_unavailable`, with Retry-After. */
export function temporarilyUnavailable(ctx: Koa.Context) {
  ctx.status = 503;
  ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
  ctx.body = {
    error: 'temporarily_unavailable',
    error_description: 'the sign-on service is briefly unavailable; try again shortly',
  };
}
