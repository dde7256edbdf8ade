/**
 * Scopes a site may not have, dropped before the engine reads the request (mounted with
 * `provider.use` in provider.ts): from an authorization request's query, and from a refresh's
 * form. Yitong knows the scope but the site's manifest does not list it, so the site gets the
 * rest rather than `invalid_scope` for the whole request (RFC 6749 §3.3).
 */
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { BODY_TOO_LARGE, ENGINE_BODY_LIMIT, replay } from './registration-requests.ts';

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
        ctx.body = BODY_TOO_LARGE;
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks);
    ctx.req = ctx.request.req = replay(req, (await narrowed(raw, ctx.get('authorization'))) ?? raw);
    await next();
  };
}
