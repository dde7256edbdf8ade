/**
 * The provider's own middleware (mounted with `provider.use` in provider.ts): discovery and the
 * JWKS made once, scopes a site may not have dropped from its query, and an outage answered as
 * a 503 `temporarily_unavailable`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { RETRY_AFTER_SECONDS } from '../outage.ts';
import { noneMatch } from '../web/etag.ts';
import { settleWrites } from './adapters/request-writes.ts';
import { JWKS_MAX_AGE_SECONDS } from './keys.ts';
import { outagePage } from './pages.ts';
import { ENGINE_BODY_LIMIT, replay } from './registration.ts';

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
    // HEAD too: a probe of the JWKS gets the same caching headers as its GET.
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !paths.includes(ctx.path)) return next();
    let page = made.get(ctx.path);
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
      made.set(ctx.path, page);
    }
    serve(ctx, page);
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

/** The scopes a site may have of those `requested`: ones Yitong knows but the site's manifest does not list go. */
function allowedOf(requested: string, client: { scope?: string | undefined }, known: ReadonlySet<string>) {
  const allowed = new Set(String(client.scope).split(' '));
  return requested
    .split(' ')
    .filter((scope) => !known.has(scope) || allowed.has(scope))
    .join(' ');
}

/**
 * A site asking (in the authorization request's query) for a scope Yitong knows but the site's
 * manifest does not list gets the rest, not `invalid_scope` for the whole sign-in (RFC 6749 §3.3:
 * the token response's `scope` tells it what was granted). Apache mod_auth_openidc asks for
 * `openid profile email` by default. Pushed and signed requests, composed by the site's own code,
 * are still checked strictly.
 */
export function dropScopesNotAllowed(provider: Provider, known: ReadonlySet<string>) {
  const path = provider.pathFor('authorization');
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    const query =
      ctx.method === 'GET' && ctx.path === path ? new URLSearchParams(ctx.querystring) : undefined;
    const requested = query?.get('scope');
    // Unreachable storage: the request goes on unchanged, to the engine's own outage answer.
    const client =
      requested && !query?.has('request')
        ? await provider.Client.find(query?.get('client_id') ?? '').catch(() => undefined)
        : undefined;
    if (query && requested && client?.scope) {
      const kept = allowedOf(requested, client, known);
      if (kept !== requested) {
        query.set('scope', kept);
        ctx.querystring = query.toString();
      }
    }
    await next();
  };
}

/**
 * The site a `client_secret_basic` header names (its id is form-encoded); undefined when there is
 * none or it is malformed, which the engine then refuses as such.
 */
function basicClientId(authorization: string): string | undefined {
  const basic = /^Basic (.+)$/i.exec(authorization)?.[1];
  if (!basic) return undefined;
  try {
    return decodeURIComponent(Buffer.from(basic, 'base64').toString().split(':')[0] ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The site a client assertion names in its `sub` (RFC 7523 §3: `client_id` may then be left out,
 * as iddawc does), read unverified as the engine first reads it; the engine then verifies it.
 */
function assertionClientId(assertion: string | null): string | undefined {
  if (!assertion) return undefined;
  try {
    return decodeJwt(assertion).sub;
  } catch {
    return undefined;
  }
}

/**
 * The same for a refresh: mod_auth_openidc sends its configured scope (`openid profile email`)
 * with every refresh, and a grant made without `email` would refuse it (`invalid_scope`, "refresh
 * token missing requested scope"). Asking for more than was granted is still refused (RFC 6749 §6).
 * The site is the one the engine authenticates: `client_id`, the Basic header, or the assertion.
 */
export function dropRefreshScopesNotAllowed(provider: Provider, known: ReadonlySet<string>) {
  const path = provider.pathFor('token');
  /** The refresh's form with the scopes the site may not have dropped; undefined when nothing changes. */
  async function narrowed(raw: Buffer, authorization: string): Promise<Buffer | undefined> {
    // Most token requests are not refreshes: a byte search spares them the parsing. (One that
    // spells its grant type percent-encoded is only checked strictly, by the engine.)
    if (!raw.includes('refresh_token')) return undefined;
    const form = new URLSearchParams(raw.toString('utf8'));
    const requested = form.get('scope');
    if (form.get('grant_type') !== 'refresh_token' || !requested) return undefined;
    // An empty client_id is none, as the engine reads it.
    const id =
      form.get('client_id') ||
      basicClientId(authorization) ||
      assertionClientId(form.get('client_assertion'));
    const client = id ? await provider.Client.find(id).catch(() => undefined) : undefined;
    const kept = client?.scope && allowedOf(requested, client, known);
    if (!kept || kept === requested) return undefined;
    form.set('scope', kept);
    return Buffer.from(form.toString());
  }
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method !== 'POST' || ctx.path !== path || !ctx.is('application/x-www-form-urlencoded'))
      return next();
    const { req } = ctx;
    const length = Number(req.headers['content-length']);
    // Declared longer than the engine takes: it refuses that by the header alone, at once, where
    // reading it here would wait on the client for as long as it likes.
    if (length > ENGINE_BODY_LIMIT) return next();
    // A token request's few hundred bytes have almost always arrived with its headers: looked at
    // where they wait and put back (unshift), the stream not consumed, nothing copied. This runs
    // inside the server's 'request' event, before the HTTP parser has pushed the body that came
    // in the same packet; one microtask later it is there.
    const small = length > 0 && length <= 16 * 1024;
    if (small && req.readableLength < length) await Promise.resolve();
    const waiting = small ? (req.read(length) as Buffer | null) : null;
    if (waiting) {
      req.unshift(waiting);
      const body = await narrowed(waiting, ctx.get('authorization'));
      if (body) {
        req.read(length);
        req.headers['content-length'] = String(body.length);
        req.unshift(body);
      }
      return next();
    }
    // Otherwise read whole and replayed.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      // As the provider's own reading would answer, in its format (a throw here is outside its
      // error handling, and would be plain text).
      if (size > ENGINE_BODY_LIMIT) {
        ctx.status = 400;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'invalid_request', error_description: 'failed to parse the request body' };
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    ctx.req = ctx.request.req = replay(req, (await narrowed(raw, ctx.get('authorization'))) ?? raw);
    await next();
  };
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
  await giveBackRefreshToken(ctx);
  ctx.remove('set-cookie');
  if (ctx.status === 503) return;
  ctx.remove('location');
  // A person's browser (a write failed after the engine had answered) gets the page.
  if (ctx.accepts('json', 'html') === 'html') return outagePage(ctx);
  ctx.status = 503;
  ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
  ctx.body = {
    error: 'temporarily_unavailable',
    error_description: 'the sign-on service is briefly unavailable; try again shortly',
  };
}

/**
 * A refresh that rotated its token and then failed on an outage (the release row's commit, say)
 * answers 503, which means nothing happened: the spent token is handed back, so the site's retry
 * succeeds instead of counting as reuse, which would revoke the person's grant. The new tokens,
 * never handed out, expire unused. With Redis itself down this cannot be stored either, and the
 * token was likely never spent.
 */
async function giveBackRefreshToken(ctx: KoaContextWithOIDC) {
  const spent = ctx.oidc.entities.RotatedRefreshToken;
  if (!spent) return;
  spent.consumed = undefined;
  await spent
    .save()
    .then(() => settleWrites(ctx))
    .catch(() => {});
}
