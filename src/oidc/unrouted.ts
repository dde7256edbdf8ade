/**
 * A request the engine's router matches nothing for gets OAuth's JSON, not the engine's
 * plain-text 404: a method its endpoint does not take (GET /token, PUT /me) is a 405 naming the
 * methods it does (RFC 9110, 15.5.6), a path below an endpoint that is not one (/jwks/x) a 404,
 * and an OPTIONS that is no CORS preflight a 204 naming them.
 * Mounted first with `provider.use`: it only looks at the answer, after everything else.
 *
 * @example
 *   provider.use(unrouted(provider));
 *   // GET /token → 405, Allow: POST, {"error":"invalid_request","error_description":"…only POST"}
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

export function unrouted(provider: Provider) {
  const at = (name: string) => provider.pathFor(name);
  const methods = new Map<string, string>([
    [at('authorization'), 'GET, POST'],
    [at('userinfo'), 'GET, POST'],
    [at('end_session'), 'GET, POST'],
    [`${at('end_session')}/confirm`, 'POST'],
    [`${at('end_session')}/success`, 'GET'],
    [at('token'), 'POST'],
    [at('introspection'), 'POST'],
    [at('revocation'), 'POST'],
    [at('pushed_authorization_request'), 'POST'],
    [at('registration'), 'POST'],
    [at('jwks'), 'GET'],
    ['/.well-known/openid-configuration', 'GET'],
    ['/.well-known/oauth-authorization-server', 'GET'],
  ]);
  // One segment below these: an authorization's resume, a registered site's own address.
  const below = new Map([
    [`${at('authorization')}/`, 'GET'],
    [`${at('registration')}/`, 'GET, PUT, DELETE'],
  ]);
  const methodsOf = (path: string) => {
    const exact = methods.get(path);
    if (exact) return exact;
    for (const [prefix, allowed] of below)
      if (path.length > prefix.length && path.startsWith(prefix) && !path.includes('/', prefix.length))
        return allowed;
    return undefined;
  };
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    // Every route of the engine sets up ctx.oidc first; nothing did, so no route matched. An
    // OPTIONS that is no CORS preflight matches the preflight's route, which leaves it unanswered.
    if (ctx.status !== 404 || ctx.body !== undefined || (ctx.oidc && ctx.method !== 'OPTIONS')) return;
    const allowed = methodsOf(ctx.path);
    if (!allowed) {
      ctx.body = { error: 'invalid_request', error_description: 'no such endpoint' };
      ctx.status = 404;
      return;
    }
    ctx.set('Allow', allowed);
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    ctx.status = 405;
    ctx.body = { error: 'invalid_request', error_description: `this endpoint accepts only ${allowed}` };
  };
}
