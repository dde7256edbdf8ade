/**
 * The HTTP server's listener and the Koa application behind it: our pages and ops endpoints
 * first, then everything else to the provider.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import Router from '@koa/router';
import Koa from 'koa';
import { adminApiRoutes, jsonOnly } from './admin/api.ts';
import { adminRoutes } from './admin/routes.ts';
import { sourceRoutes } from './attributes/routes.ts';
import type { Container } from './container.ts';
import { federationRoutes } from './federation/routes.ts';
import { createInteractionKit } from './interactions/kit.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { createTokenCheck } from './oidc/accounts.ts';
import { answerPrecomputed, temporarilyUnavailable } from './oidc/provider-middleware.ts';
import { RefusedBody, registrationBodies } from './oidc/registration-requests.ts';
import { createSessionReader } from './oidc/session.ts';
import { createTokenReader } from './oidc/token-reader.ts';
import { opsRoutes } from './ops/routes.ts';
import { dependencyOf, isOutage, logStreamErrors } from './outage.ts';
import { developerRoutes } from './portal/developers.ts';
import { homeRoutes } from './portal/home.ts';
import { recoverRoutes } from './portal/recover.ts';
import { resetRoutes } from './portal/reset.ts';

import { portalRoutes } from './portal/routes.ts';
import { createPortalSession } from './portal/session.ts';
import { staffRoutes } from './staff/routes.ts';
import { cookieSigner } from './web/cookie-signer.ts';
import { parseForm } from './web/form.ts';
import {
  closeUnreadBody,
  csrfToken,
  errorHandler,
  isHost,
  locale,
  requireHost,
  requireIssuerOrigin,
  scriptNonce,
  securityHeaders,
  securityHeaderValues,
} from './web/middleware.ts';
import { postAsGet } from './web/post-as-get.ts';
import { serveStatic } from './web/static.ts';

/**
 * The HTTP server's listener. Discovery and the JWKS, once made, are answered before Koa
 * builds a context (half a discovery request's CPU went there), and the programs' endpoints
 * (token, UserInfo, introspection, revocation) go straight to the engine, which builds its own:
 * none of them uses a cookie, a language or a page of ours. Everything else goes to the
 * application. Production takes these ways only over HTTPS at the issuer's host, read as strictly
 * as Koa reads it; any other request goes on to the application, to be refused as every other is.
 */
export function requestListener(container: Container) {
  const { config, metrics, lifecycle, provider } = container;
  const app = createApp(container).callback();
  const host = new URL(config.issuer).host;
  const forwarded = (req: IncomingMessage, name: string) =>
    config.proxyHops > 0 ? req.headers[name] : undefined;
  // Origin form only (a path, not `https://host/path`): the application refuses the rest.
  const allowed = (req: IncomingMessage) =>
    req.url?.[0] === '/' &&
    (config.production
      ? ((req.socket as TLSSocket).encrypted || forwarded(req, 'x-forwarded-proto') === 'https') &&
        (forwarded(req, 'x-forwarded-host') ?? req.headers.host) === host
      : isHost(forwarded(req, 'x-forwarded-host') ?? req.headers.host));
  const headers = securityHeaderValues({ production: config.production });
  const answer = answerPrecomputed(provider, headers);
  const jwks = provider.pathFor('jwks');
  const direct = new Map(
    ['token', 'userinfo', 'introspection', 'revocation'].map((name) => [provider.pathFor(name), name]),
  );
  const count = (req: IncomingMessage, res: ServerResponse, route: string, started: number) =>
    metrics.http.observe(
      { route, method: req.method ?? '', status: `${String(res.statusCode).slice(0, 1)}xx` },
      (performance.now() - started) / 1000,
    );
  const headerList = Object.entries(headers);
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    if (lifecycle.draining || !allowed(req)) return app(req, res);
    if (answer(req, res)) return count(req, res, req.url === jwks ? 'jwks' : 'discovery', started);
    const route = direct.get(req.url?.split('?', 1)[0] ?? '');
    if (!route) return app(req, res);
    for (const [name, value] of headerList) res.setHeader(name, value);
    res.once('close', () => count(req, res, route, started));
    // The current instance's handler: a rotated key brings a new instance (oidc/swappable.ts).
    void provider.callback()(req, res);
  };
}

export function createApp(container: Container): Koa {
  const { config, provider } = container;
  // Only the entries our own proxies appended to X-Forwarded-For are trusted, never the client's.
  const app = new Koa({ proxy: config.proxyHops > 0, maxIpsCount: config.proxyHops });
  app.keys = cookieSigner(config.secrets.cookieKeys);
  app.on('error', logStreamErrors(container.logger));
  app.use(countRequests(container.metrics));
  app.use(securityHeaders({ production: config.production }));
  // Shutting down: every response asks the client (or balancer) to open its next connection elsewhere.
  app.use(async (ctx, next) => {
    if (container.lifecycle.draining) ctx.set('connection', 'close');
    await next();
  });
  app.use(closeUnreadBody);
  app.use(locale);
  app.use(errorHandler(container.logger, container.outages));
  app.use(opsRoutes(container).routes());
  app.use(config.production ? requireIssuerOrigin(config.issuer) : requireHost);
  app.use(postAsGet([provider.pathFor('authorization'), provider.pathFor('end_session')]));
  app.use(
    providerEndpoints(
      provider,
      registrationBodies(provider.pathFor('registration'), container.clientsRepo),
      container.outages,
    ),
  );
  app.use(
    serveStatic(new URL('../static/', import.meta.url), {
      'webauthn.js': new URL(
        '../dist/bundle/index.umd.min.js',
        import.meta.resolve('@simplewebauthn/browser'),
      ),
    }),
  );
  app.use(scriptNonce);

  const portal = createPortalSession({
    readSession: createSessionReader(provider),
    accounts: container.accounts,
    sessions: container.sessions,
    issuer: config.issuer,
    authorizationPath: provider.pathFor('authorization'),
  });
  // The programs' APIs answer JSON, errors included, also where the router matches no method.
  app.use((ctx, next) => (/^\/(admin\/api|sources)(\/|$)/i.test(ctx.path) ? jsonOnly(ctx, next) : next()));
  const ours = new Router();
  ours.use(
    ['/interaction', '/register', '/account', '/staff', '/admin', '/reset', '/recover'],
    csrfToken({ production: config.production }),
    parseForm,
  );
  ours.use(interactionRoutes(provider, container).routes());
  ours.use(
    federationRoutes({
      kit: createInteractionKit(provider),
      issuer: config.issuer,
      upstreams: container.upstreams,
      federation: container.federation,
      ephemeral: container.ephemeral,
      accounts: container.accounts,
      endUpstreamSessions: (personId, ip) => container.sites.endUpstreamSessions(personId, ip),
    }).routes(),
  );
  ours.use(
    portalRoutes({
      ...container,
      portal,
      endSessionPath: provider.pathFor('end_session'),
      siteName: container.directory.name,
      siteOf: container.directory.describe,
    }).routes(),
  );
  ours.use(staffRoutes({ portal, ...container }).routes());

  ours.use(resetRoutes(container.passwordReset).routes());
  ours.use(recoverRoutes(container).routes());
  ours.use(
    adminApiRoutes({
      admin: container.admin,
      readToken: createTokenReader(provider, createTokenCheck(container.accounts)),
      sites: container.directory,
      issuer: config.issuer,
      registrationEndpoint: `${config.issuer}${provider.pathFor('registration')}`,
      catalogue: container.catalogue,
      upstreams: container.upstreams,
    }).routes(),
  );
  ours.use(
    sourceRoutes({
      sources: container.sources,
      readToken: createTokenReader(provider, createTokenCheck(container.accounts)),
      sites: container.directory,
    }).routes(),
  );
  ours.use(
    adminRoutes({
      portal,
      admin: container.admin,
      ephemeral: container.ephemeral,
      siteName: container.directory.name,
      catalogue: container.catalogue,
      upstreams: container.upstreams,
    }).routes(),
  );
  ours.use(homeRoutes({ portal, clientsRepo: container.clientsRepo }).routes());
  ours.use(developerRoutes(config, container.catalogue).routes());
  app.use(ours.routes());
  app.use(ours.allowedMethods());

  return app;
}

/**
 * Every request counted and timed by route — the protocol endpoint's name or our route's
 * pattern (`/account/sites/:clientId/revoke`), never a path with an id in it.
 */
function countRequests(metrics: Container['metrics']) {
  return async (ctx: Koa.Context, next: Koa.Next) => {
    const stop = metrics.http.startTimer();
    try {
      await next();
    } finally {
      const state = ctx.state as { route?: string };
      const route = state.route ?? (ctx as { _matchedRoute?: string })._matchedRoute ?? 'other';
      stop({
        route: String(route),
        method: ctx.method,
        status: `${String(ctx.res.statusCode).slice(0, 1)}xx`,
      });
    }
  };
}

/**
 * The provider's own endpoints go straight to it, early: the hot paths (token, userinfo, the
 * SSO hop) skip our page middleware. Any other path is ours (and our 404 page when unknown).
 */
function providerEndpoints(
  provider: Container['provider'],
  prepare: (req: Koa.Context['req']) => Promise<Koa.Context['req']>,
  outages: Container['outages'],
) {
  const names = [
    'authorization',
    'token',
    'userinfo',
    'jwks',
    'end_session',
    'introspection',
    'revocation',
    'pushed_authorization_request',
    'registration',
  ];
  // Longest first: /token/introspection is introspection, not token.
  const prefixes: Array<[string, string]> = [
    ['/.well-known', 'discovery'] as [string, string],
    ...names.map((name): [string, string] => [provider.pathFor(name), name]),
  ].sort((a, b) => b[0].length - a[0].length);
  return async (ctx: Koa.Context, next: Koa.Next) => {
    const endpoint = prefixes.find(([prefix]) => ctx.path === prefix || ctx.path.startsWith(`${prefix}/`));
    if (!endpoint) return next();
    (ctx.state as { route?: string }).route = endpoint[1];
    let req = ctx.req;
    // Only registration bodies are read ahead: the token endpoint and the others go straight on.
    if (endpoint[1] === 'registration' && (ctx.method === 'PUT' || ctx.method === 'POST'))
      try {
        req = await prepare(req);
      } catch (error) {
        if (error instanceof RefusedBody) {
          ctx.status = 400;
          ctx.set('cache-control', 'no-store');
          ctx.body = error.answer;
          return;
        }
        if (!isOutage(error)) throw error;
        outages.down(dependencyOf(error), error);
        return temporarilyUnavailable(ctx);
      }
    ctx.respond = false;
    // The current instance's handler: a rotated key brings a new instance (oidc/swappable.ts).
    await provider.callback()(req, ctx.res);
  };
}
