/**
 * The console's departmental sites (`/admin/clients`): list, register (a site, or a service
 * account), edit its sign-in and logout settings, rotate its secret, disable it — within the
 * administrator's region, with each manifest problem shown next to its field in the reader's
 * words. Mounted by admin/routes.ts behind its administrator check.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { isServiceAccount } from '../clients/manifest.ts';
import { AppError, isAppError } from '../errors.ts';
import { regionName } from '../identity/regions.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError } from '../web/render.ts';
import type { Admin } from './regions.ts';
import type { AdminService } from './service.ts';

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
/** What the edit form changes of an existing site, as the manifest names them. */
const SETTINGS = [
  'redirect_uris',
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'backchannel_logout_session_required',
  'scope',
] as const;
/** What the create form sets: who the site is and how it signs in, then its settings. */
const CLIENT_FIELDS = [
  'client_id',
  'client_name',
  'department',
  'region_code',
  'grant_types',
  'token_endpoint_auth_method',
  ...SETTINGS,
] as const;

/** The console's form as manifest fields: URIs one per line, grant types from their checkboxes. */
function clientFields(form: Record<string, string>, keys: readonly string[]) {
  const fields: Record<string, unknown> = {};
  for (const key of keys) {
    const text = str(form[key]).trim();
    if (key === 'grant_types') {
      const grants = GRANTS.filter((grant) => form[`grant_${grant}`] === 'yes');
      if (grants.length) fields.grant_types = grants;
    } else if (key === 'backchannel_logout_session_required') {
      if (str(form.backchannel_logout_uri).trim()) fields[key] = form[key] === 'yes';
    } else if (key.endsWith('_uris')) {
      const uris = text.split(/\s+/).filter(Boolean);
      if (uris.length) fields[key] = uris;
    } else if (text) fields[key] = text;
  }
  return fields;
}

/** A manifest's problems as the console shows them: each next to its field, in the reader's words. */
function inFields(error: AppError): AppError {
  if (error.code !== 'admin.client.invalid') return error;
  const fields = String(error.params.fields ?? '')
    .split(',')
    .filter((field): field is (typeof CLIENT_FIELDS)[number] =>
      (CLIENT_FIELDS as readonly string[]).includes(field),
    );
  const [first, ...rest] = fields.map((field) => new AppError(`client.invalid.${field}`, 400, { field }));
  return first
    ? new AppError(first.code, 400, { field: first.field, also: rest })
    : new AppError('client.invalid.other', 400, { params: error.params });
}

export function clientRoutes(deps: {
  service: AdminService;
  state: (ctx: Context) => { admin: Admin };
  /** What every console page shows (the administrator's grants, whether they may change things). */
  page: (ctx: Context) => Record<string, unknown>;
}): Router {
  const { service, state, page } = deps;
  const router = new Router();

  async function clientsPage(ctx: Context, form: Record<string, string> = {}, error?: AppError) {
    const clients = await service.listClients(state(ctx).admin);
    const data = {
      title: 'admin.clients.title' as const,
      ...page(ctx),
      clients: clients.map((c) => ({
        ...c,
        region: regionName(c.regionCode),
        serviceAccount: isServiceAccount(c.metadata),
      })),
      form: { scope: 'openid profile', ...form },
      submitted: Object.keys(form).length > 0,
      // Not `grants`: page(ctx) gives that name to the administrator's roles, shown in the nav.
      grantChoices: GRANTS,
      authMethods: AUTH_METHODS,
    };
    if (error) return renderWithError(ctx, 'admin-clients', data, inFields(error));
    render(ctx, 'admin-clients', { ...data, errors: {} });
  }

  async function clientPage(
    ctx: Context,
    extra: {
      secret?: string;
      oldValidUntil?: Date;
      endedNow?: boolean;
      error?: AppError;
      form?: Record<string, string>;
      /** The form was saved with the values already stored: nothing was written. */
      unchanged?: boolean;
    } = {},
  ) {
    const c = await service.client(state(ctx).admin, str(ctx.params.id));
    const metadata = c.metadata as Record<string, unknown>;
    const lines = (key: string) => ((metadata[key] as string[] | undefined) ?? []).join('\n');
    const data = {
      title: 'admin.client.title' as const,
      ...page(ctx),
      c,
      region: regionName(c.regionCode),
      grantTypes: (metadata.grant_types as string[] | undefined) ?? ['authorization_code'],
      authMethod: str(metadata.token_endpoint_auth_method) || 'client_secret_basic',
      form: extra.form ?? {
        redirect_uris: lines('redirect_uris'),
        post_logout_redirect_uris: lines('post_logout_redirect_uris'),
        backchannel_logout_uri: str(metadata.backchannel_logout_uri),
        backchannel_logout_session_required:
          metadata.backchannel_logout_session_required === false ? 'no' : 'yes',
        scope: str(metadata.scope),
      },
      secret: extra.secret,
      oldValidUntil: extra.oldValidUntil,
      endedNow: extra.endedNow,
      unchanged: extra.unchanged,
    };
    if (extra.error) return renderWithError(ctx, 'admin-client', data, inFields(extra.error));
    render(ctx, 'admin-client', { ...data, errors: {} });
  }

  router.get('/admin/clients', (ctx) => clientsPage(ctx));

  router.post('/admin/clients', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const fields = clientFields(form, CLIENT_FIELDS);
    try {
      const created = await service.createClient(state(ctx).admin, fields, ctx.ip);
      ctx.params.id = created.clientId;
      return clientPage(ctx, { secret: created.generatedSecret });
    } catch (error) {
      if (!isAppError(error) || error.status === 403) throw error;
      return clientsPage(ctx, form, error);
    }
  });

  router.get('/admin/clients/:id', (ctx) => clientPage(ctx));

  router.post('/admin/clients/:id', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    // The edit form always sends its text fields, blank or not: a body with none of them did not
    // come from it, and saving it would only pretend to change the site.
    if (!SETTINGS.some((key) => Object.hasOwn(form, key)))
      throw new AppError('request.invalid', 400, { params: { detail: 'reason.form_fields' } });
    try {
      const fields = clientFields(form, SETTINGS);
      const changed = await service.updateClient(state(ctx).admin, str(ctx.params.id), fields, ctx.ip);
      return clientPage(ctx, { unchanged: !changed });
    } catch (error) {
      if (!isAppError(error) || error.status === 403) throw error;
      return clientPage(ctx, { error, form });
    }
  });

  router.post('/admin/clients/:id/rotate-secret', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const endOldNow = form.now === 'yes';
    const rotated = await service.rotateClientSecret(state(ctx).admin, str(ctx.params.id), ctx.ip, endOldNow);
    await clientPage(ctx, { ...rotated, endedNow: endOldNow });
  });

  router.post('/admin/clients/:id/disable', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await service.disableClient(state(ctx).admin, str(ctx.params.id), ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/admin/clients/${encodeURIComponent(str(ctx.params.id))}`);
  });

  return router;
}
