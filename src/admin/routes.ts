/**
 * The admin console (`/admin`): search and manage accounts, legal persons and the audit trail
 * within the administrator's region. Only administrators reach it (everyone else: 403), and only
 * signed in with at least two factors (a weaker session is sent to step up first).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { auditCsv } from '../audit/csv.ts';
import { ACR } from '../auth/strength.ts';
import { isServiceAccount } from '../clients/manifest.ts';
import { AppError, isAppError } from '../errors.ts';
import { regionName } from '../identity/regions.ts';
import { parseCreditCodeOrThrow } from '../legal-persons/registration.ts';
import { isMessageKey } from '../messages/index.ts';
import type { PortalSession, PortalState } from '../portal/session.ts';
import { confirmFirst } from '../web/confirm.ts';
import { formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import { auditFilterOf, auditRowView } from './audit-view.ts';
import { type Admin, type AdminService, PERSON_ACTIONS } from './service.ts';

const GRANTS = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
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

/** Actions on a person that are confirmed first: they end the person's sign-ins. */
const CONFIRMED_ACTIONS = {
  lock: { title: 'confirm.lock.title', lead: 'confirm.lock' },
  'sign-out': { title: 'confirm.sign_out_person.title', lead: 'confirm.sign_out_person' },
} as const;

type AdminState = PortalState & { admin: Admin };

export function adminRoutes(deps: {
  portal: PortalSession;
  admin: AdminService;
  siteName(clientId: string): Promise<string>;
}): Router {
  const { admin: service } = deps;
  const router = new Router();
  const state = (ctx: Context) => ctx.state as AdminState;

  async function adminOnly(ctx: Context, next: Next) {
    const admin = await service.adminOf(state(ctx).person.id);
    if (!admin) throw new AppError('admin.forbidden', 403);
    state(ctx).admin = admin;
    await next();
  }

  router.use('/admin', deps.portal.signedIn, adminOnly, deps.portal.requireAcr(ACR.mfa));

  const page = (ctx: Context) => ({
    // Consoles hold tables: the page takes the screen's width.
    wide: true,
    grants: state(ctx).admin.grants,
    canChange: service.canChange(state(ctx).admin),
  });

  router.get('/admin', (ctx) => render(ctx, 'admin', { title: 'admin.title', ...page(ctx), q: '' }));

  // A POST, so that identity numbers never sit in a URL (access logs, proxies, history).
  router.post('/admin/search', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const q = str(form.q).slice(0, 100);
    render(ctx, 'admin', {
      title: 'admin.title',
      ...page(ctx),
      q,
      people: await service.searchPeople(state(ctx).admin, q),
    });
  });

  router.get('/admin/people/:id', async (ctx) => {
    const account = await service.account(state(ctx).admin, str(ctx.params.id));
    render(ctx, 'admin-person', {
      title: 'admin.person.title',
      ...page(ctx),
      ...account,
      done: str(ctx.query.done),
    });
  });

  router.post('/admin/people/:id/:action', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const action = pick(PERSON_ACTIONS, ctx.params.action);
    if (!action) throw new AppError('not_found', 404);
    const id = str(ctx.params.id);
    const confirm = pick(CONFIRMED_ACTIONS, ctx.params.action);
    if (confirm) {
      const { person } = await service.account(state(ctx).admin, id);
      const lead = tr(ctx, confirm.lead, { name: person.name, id: person.idNumberMasked });
      const back = `/admin/people/${encodeURIComponent(id)}`;
      if (!confirmFirst(ctx, form, { title: confirm.title, lead, back })) return;
    }
    await service[action](state(ctx).admin, id, ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/admin/people/${encodeURIComponent(id)}?done=${ctx.params.action}`);
  });

  router.get('/admin/legal-persons', async (ctx) => {
    const q = str(ctx.query.q);
    render(ctx, 'admin-legal', {
      title: 'admin.legal.title',
      ...page(ctx),
      q,
      // Without a query: the open claims of the region, the work waiting.
      entities: await service.searchLegalPersons(state(ctx).admin, q),
      done: str(ctx.query.done),
    });
  });

  router.post('/admin/legal-persons/:code/status', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const code = parseCreditCodeOrThrow(str(ctx.params.code));
    if (form.action === 'deregister') {
      const lead = tr(ctx, 'confirm.deregister', { code });
      const back = `/admin/legal-persons?q=${code}`;
      if (!confirmFirst(ctx, form, { title: 'confirm.deregister.title', lead, back })) return;
    }
    const entity = await service.setLegalPersonStatus(state(ctx).admin, code, str(form.action), ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/admin/legal-persons?q=${entity.creditCode}&done=${entity.status}`);
  });

  router.post('/admin/legal-persons/claims/:id/confirm', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const evidence = str(form.evidence).trim();
    if (evidence.length < 4 || evidence.length > 500)
      throw new AppError('legal_person.evidence', 400, { field: 'evidence' });
    const entity = await service.confirmClaim(state(ctx).admin, str(ctx.params.id), evidence, ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/admin/legal-persons?q=${entity.creditCode}&done=${entity.status}`);
  });

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
      grants: GRANTS,
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
    try {
      await service.updateClient(state(ctx).admin, str(ctx.params.id), clientFields(form, SETTINGS), ctx.ip);
      return clientPage(ctx);
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

  /** Audit rows in the reader's words, each site looked up once. */
  async function inWords(ctx: Context, rows: Awaited<ReturnType<AdminService['searchAudit']>>) {
    const ids = new Set<string>();
    for (const row of rows) {
      const { client_id: one, clients: many } = row.details as { client_id?: unknown; clients?: unknown };
      for (const id of [one, ...(Array.isArray(many) ? many : [])]) if (typeof id === 'string') ids.add(id);
      if (row.action.startsWith('client.') && row.subject) ids.add(row.subject);
    }
    const names = new Map(
      await Promise.all([...ids].map(async (id) => [id, await deps.siteName(id)] as const)),
    );
    const words = {
      word: (key: string) => (isMessageKey(key) ? tr(ctx, key) : undefined),
      separator: tr(ctx, 'list.separator'),
      site: (id: string) => names.get(id) ?? id,
    };
    return rows.map((row) => auditRowView(row, words));
  }

  router.get('/admin/audit', async (ctx) => {
    const filter = auditFilterOf(ctx.query);
    const rows = await service.searchAudit(
      state(ctx).admin,
      filter,
      ctx.query.format === 'csv' ? 10_000 : 200,
    );
    if (ctx.query.format === 'csv') {
      ctx.set('content-disposition', 'attachment; filename="audit.csv"');
      ctx.type = 'text/csv; charset=utf-8';
      ctx.body = auditCsv(rows);
      return;
    }
    render(ctx, 'admin-audit', {
      title: 'admin.audit.title',
      ...page(ctx),
      filter: Object.fromEntries(Object.entries(ctx.query).map(([key, value]) => [key, str(value)])),
      rows: await inWords(ctx, rows),
      csv: `/admin/audit?${new URLSearchParams({ ...(ctx.query as Record<string, string>), format: 'csv' })}`,
    });
  });

  return router;
}
