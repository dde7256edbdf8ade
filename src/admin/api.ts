/**
 * The admin API (`/admin/api`): the console's powers as JSON for automation, described by
 * OpenAPI 3.1 at /admin/api/openapi.json. Callers present a bearer access token from this
 * provider (see openapi.ts); bodies are validated at the edge and a bad one gets 400 naming the
 * field. Region limits and auditing are the admin service's, exactly as in the console.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { type Upstream, upstreamView } from '../federation/upstreams.ts';
import { parseCreditCodeOrThrow } from '../legal-persons/registration.ts';
import type { Locale } from '../messages/index.ts';
import type { SiteDirectory } from '../oidc/directory.ts';
import type { TokenReader } from '../oidc/token-reader.ts';
import { type Catalogue, scopeOf } from '../oidc/verified-claims.ts';
import { bodyOf, pick, str } from '../web/form.ts';
import { auditFilterOf } from './audit-view.ts';
import { openApiDocument } from './openapi.ts';
import type { Admin } from './regions.ts';
import { type AdminService, PERSON_ACTIONS } from './service.ts';

const StatusChange = z.strictObject({ action: z.enum(['suspend', 'deregister', 'reactivate']) });
const ClaimConfirmation = z.strictObject({ evidence: z.string().trim().min(4).max(500) });
const Search = z.strictObject({ q: z.string().max(100) });
/** A site's manifest fields, checked by the manifest rules as a file's are (clients/manifest.ts). */
const Manifest = z.record(z.string(), z.unknown());
const NewClient = Manifest.refine((manifest) => typeof manifest.client_id === 'string', {
  message: 'is required',
  path: ['client_id'],
});
/** What stays as registered, and the secret, which rotate-secret changes. */
const FIXED = ['client_id', 'department', 'region_code', 'client_secret'];
const ClientChange = Manifest.refine(
  (change) => Object.keys(change).length > 0,
  'name at least one field',
).refine((change) => !FIXED.some((field) => Object.hasOwn(change, field)), {
  message: `${FIXED.join(', ')} cannot be changed here (the secret: POST …/rotate-secret)`,
});
const TokenRequest = z.strictObject({
  department: z.string().min(1).max(100),
  region_code: z.string().regex(/^\d{6}$/, 'must be a 6-digit division code'),
  scopes: z.string().min(1),
  days: z.number().int().min(1).max(90).optional(),
});

/** The body as `schema` wants it, or 400 naming the first field that is wrong. */
function parseBody<T>(ctx: Context, schema: z.ZodType<T>): T {
  const body = schema.safeParse(bodyOf(ctx));
  if (body.success) return body.data;
  const issue = body.error.issues[0];
  const field = issue?.path.join('.') || 'body';
  throw new AppError('api.body', 400, { field, params: { field, detail: issue?.message ?? 'invalid' } });
}

export interface ApiDeps {
  admin: AdminService;
  readToken: TokenReader;
  /** The site holding a token: its region, and whether its admin scopes still count. */
  sites: Pick<SiteDirectory, 'find'>;
  issuer: string;
  registrationEndpoint: string;
  /** The verified attribute types (attributes/*.json), shown as they were loaded. */
  catalogue: Catalogue;
  upstreams: ReadonlyMap<string, Upstream>;
}

/**
 * Mounted before the body parser: every answer of this API, errors included, is JSON, in one
 * language: English, as its OpenAPI document and the validators' details are, unless the caller
 * asks for Chinese (`Accept-Language: zh-CN`).
 */
export async function jsonOnly(ctx: Context, next: Next) {
  ctx.request.headers.accept = 'application/json';
  (ctx.state as { locale: Locale }).locale =
    ctx.acceptsLanguages('en', 'zh-CN', 'zh') === 'en' ? 'en' : 'zh-CN';
  await next();
}

export function adminApiRoutes(deps: ApiDeps): Router {
  const { admin: service } = deps;
  const router = new Router({ prefix: '/admin/api' });
  const document = openApiDocument(deps.issuer);
  const caller = (ctx: Context) => (ctx.state as { admin: Admin }).admin;

  /** The admin a token stands for: a site with the admin scopes in its region, or an administrator's own token. */
  async function authenticate(ctx: Context, next: Next) {
    const value = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
    const token = value ? await deps.readToken(value) : undefined;
    if (!token) {
      ctx.set('www-authenticate', 'Bearer realm="yitong-admin"');
      throw new AppError('api.unauthorized', 401);
    }
    // Admin scopes count only while the site holding the token is designated for them: a site
    // whose designation or scope was taken away loses its power at once, not when tokens expire.
    const site = await deps.sites.find(token.clientId);
    const granted = (scope: string) => token.scopes.has(scope) && Boolean(site?.scopes.has(scope));
    let admin: Admin | undefined;
    if (token.accountId) {
      admin = granted('admin') ? await service.adminOf(token.accountId) : undefined;
    } else {
      const role = granted('admin') ? 'admin' : granted('admin:read') ? 'auditor' : undefined;
      if (role && site?.regionCode)
        admin = { personId: `client:${token.clientId}`, grants: [{ role, regionCode: site.regionCode }] };
    }
    if (!admin) throw new AppError('admin.forbidden', 403);
    (ctx.state as { admin: Admin }).admin = admin;
    await next();
  }

  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });

  router.use(
    [
      '/people',
      '/legal-persons',
      '/audit',
      '/registration-tokens',
      '/clients',
      '/attribute-types',
      '/upstreams',
    ],
    authenticate,
  );

  // The upstream identity providers as loaded (never their secrets).
  router.get('/upstreams', (ctx) => {
    ctx.body = { items: [...deps.upstreams.values()].map(upstreamView) };
  });

  // The catalogue, as every node loaded it (it changes with the files and a restart).
  router.get('/attribute-types', (ctx) => {
    ctx.body = {
      items: [...deps.catalogue.values()].map(({ check: _check, ...type }) => ({
        ...type,
        scope: scopeOf(type.code),
      })),
    };
  });

  const clientView = (c: {
    id: string;
    department: string;
    regionCode: string;
    metadata: Record<string, unknown>;
    enabled: boolean;
  }) => ({
    client_id: c.id,
    department: c.department,
    region_code: c.regionCode,
    enabled: c.enabled,
    client_name: c.metadata.client_name,
    redirect_uris: c.metadata.redirect_uris,
    scope: c.metadata.scope,
  });

  router.get('/clients', async (ctx) => {
    ctx.body = { items: (await service.listClients(caller(ctx))).map(clientView) };
  });

  router.post('/clients', async (ctx) => {
    const created = await service.createClient(caller(ctx), parseBody(ctx, NewClient), ctx.ip);
    ctx.status = 201;
    ctx.body = {
      client_id: created.clientId,
      ...(created.generatedSecret && { client_secret: created.generatedSecret }),
    };
  });

  router.get('/clients/:id', async (ctx) => {
    ctx.body = clientView(await service.client(caller(ctx), str(ctx.params.id)));
  });

  router.patch('/clients/:id', async (ctx) => {
    const id = str(ctx.params.id);
    await service.updateClient(caller(ctx), id, parseBody(ctx, ClientChange), ctx.ip);
    ctx.body = clientView(await service.client(caller(ctx), id));
  });

  router.post('/clients/:id/rotate-secret', async (ctx) => {
    // `{"end_old_now": true}`: the old secret leaked, so it stops at once.
    const { secret, oldValidUntil } = await service.rotateClientSecret(
      caller(ctx),
      str(ctx.params.id),
      ctx.ip,
      bodyOf(ctx).end_old_now === true,
    );
    ctx.body = {
      client_secret: secret,
      previous_secret_expires_at: Math.floor(oldValidUntil.getTime() / 1000),
    };
  });

  router.post('/clients/:id/disable', async (ctx) => {
    await service.disableClient(caller(ctx), str(ctx.params.id), ctx.ip);
    ctx.status = 204;
  });

  router.post('/registration-tokens', async (ctx) => {
    const body = parseBody(ctx, TokenRequest);
    const token = await service.issueRegistrationToken(caller(ctx), {
      department: body.department,
      regionCode: body.region_code,
      scopes: body.scopes,
      days: body.days,
    });
    ctx.status = 201;
    ctx.body = { initial_access_token: token, registration_endpoint: deps.registrationEndpoint };
  });

  // A POST, so that identity numbers never sit in a URL (access logs, proxies, history).
  router.post('/people/search', async (ctx) => {
    ctx.body = { items: await service.searchPeople(caller(ctx), parseBody(ctx, Search).q) };
  });

  router.get('/people/:id', async (ctx) => {
    const { person, passkeys, totp, signIns } = await service.account(caller(ctx), str(ctx.params.id));
    ctx.body = {
      id: person.id,
      name: person.name,
      masked: person.idNumberMasked,
      identityLevel: person.identityLevel,
      status: person.status,
      passkeys,
      totp,
      signIns,
    };
  });

  router.post('/people/:id/:action', async (ctx) => {
    const action = pick(PERSON_ACTIONS, ctx.params.action);
    if (!action) throw new AppError('not_found', 404);
    await service[action](caller(ctx), str(ctx.params.id), ctx.ip);
    ctx.status = 204;
  });

  router.get('/legal-persons', async (ctx) => {
    ctx.body = { items: await service.searchLegalPersons(caller(ctx), str(ctx.query.q)) };
  });

  router.post('/legal-persons/:code/status', async (ctx) => {
    const { action } = parseBody(ctx, StatusChange);
    const code = parseCreditCodeOrThrow(str(ctx.params.code));
    ctx.body = await service.setLegalPersonStatus(caller(ctx), code, action, ctx.ip);
  });

  router.post('/legal-persons/claims/:id/confirm', async (ctx) => {
    const { evidence } = parseBody(ctx, ClaimConfirmation);
    ctx.body = await service.confirmClaim(caller(ctx), str(ctx.params.id), evidence, ctx.ip);
  });

  router.get('/audit', async (ctx) => {
    ctx.body = { items: await service.searchAudit(caller(ctx), auditFilterOf(ctx.query), 1000) };
  });

  return router;
}
