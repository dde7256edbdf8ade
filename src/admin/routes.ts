/**
 * The admin console (`/admin`): search and manage accounts, legal persons and the audit trail
 * within the administrator's region. Only administrators reach it (everyone else: 403), and only
 * signed in with at least two factors (a weaker session is sent to step up first).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { auditCsv } from '../audit/csv.ts';
import { ACR } from '../auth/strength.ts';
import { AppError, isAppError } from '../errors.ts';
import { parseCreditCodeOrThrow } from '../legal-persons/registration.ts';
import { isMessageKey } from '../messages/index.ts';
import type { PortalSession, PortalState } from '../portal/session.ts';
import { confirmFirst } from '../web/confirm.ts';
import { formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import { auditFilterOf, auditRowView } from './audit-view.ts';
import { type Admin, type AdminService, PERSON_ACTIONS } from './service.ts';

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

  /** The form's fields as manifest fields: redirect URIs one per line. */
  const clientFields = (form: Record<string, unknown>, keys: string[]) =>
    Object.fromEntries(
      keys
        .filter((key) => str(form[key]).trim() !== '')
        .map((key) => [
          key,
          key === 'redirect_uris' ? str(form[key]).split(/\s+/).filter(Boolean) : str(form[key]).trim(),
        ]),
    );

  async function clientsPage(ctx: Context, form: Record<string, unknown> = {}, error?: AppError) {
    const data = {
      title: 'admin.clients.title' as const,
      ...page(ctx),
      clients: await service.listClients(state(ctx).admin),
      form,
    };
    if (error) return renderWithError(ctx, 'admin-clients', data, error);
    render(ctx, 'admin-clients', { ...data, errors: {} });
  }

  async function clientPage(ctx: Context, extra: { secret?: string; error?: AppError } = {}) {
    const c = await service.client(state(ctx).admin, str(ctx.params.id));
    const redirectUris = ((c.metadata.redirect_uris as string[] | undefined) ?? []).join('\n');
    const data = {
      title: 'admin.client.title' as const,
      ...page(ctx),
      c,
      redirectUris,
      secret: extra.secret,
    };
    if (extra.error) return renderWithError(ctx, 'admin-client', data, extra.error);
    render(ctx, 'admin-client', { ...data, errors: {} });
  }

  router.get('/admin/clients', (ctx) => clientsPage(ctx));

  router.post('/admin/clients', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const fields = clientFields(form, [
      'client_id',
      'client_name',
      'department',
      'region_code',
      'redirect_uris',
      'scope',
    ]);
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
      await service.updateClient(
        state(ctx).admin,
        str(ctx.params.id),
        clientFields(form, ['redirect_uris', 'scope']),
        ctx.ip,
      );
      return clientPage(ctx);
    } catch (error) {
      if (!isAppError(error) || error.status === 403) throw error;
      return clientPage(ctx, { error });
    }
  });

  router.post('/admin/clients/:id/rotate-secret', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const rotated = await service.rotateClientSecret(state(ctx).admin, str(ctx.params.id), ctx.ip);
    await clientPage(ctx, rotated);
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
