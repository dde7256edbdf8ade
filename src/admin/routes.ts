/**
 * The admin console (`/admin`): search and manage accounts, legal persons and the audit trail
 * within the administrator's region. Only administrators reach it (everyone else: 403), and only
 * signed in with at least two factors (a weaker session is sent to step up first).
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ACR } from '../auth/strength.ts';
import { formOf, str } from '../interactions/kit.ts';
import type { PortalSession, PortalState } from '../portal/session.ts';
import { AppError } from '../web/errors.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render } from '../web/render.ts';
import { auditCsv, auditFilterOf } from './audit-view.ts';
import type { Admin, AdminService } from './service.ts';

type AdminState = PortalState & { admin: Admin };

export function adminRoutes(deps: { portal: PortalSession; admin: AdminService }): Router {
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
    grants: state(ctx).admin.grants,
    canChange: service.canChange(state(ctx).admin),
  });

  router.get('/admin', async (ctx) => {
    const q = str(ctx.query.q);
    render(ctx, 'admin', {
      title: 'admin.title',
      ...page(ctx),
      q,
      people: q ? await service.searchPeople(state(ctx).admin, q) : undefined,
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

  const ACTIONS = { lock: 'lock', unlock: 'unlock', 'sign-out': 'signOut' } as const;
  router.post('/admin/people/:id/:action', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const action = ACTIONS[str(ctx.params.action) as keyof typeof ACTIONS];
    if (!action) throw new AppError('not_found', 404);
    const id = str(ctx.params.id);
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
      entities: q ? await service.searchLegalPersons(state(ctx).admin, q) : undefined,
      done: str(ctx.query.done),
    });
  });

  router.post('/admin/legal-persons/:code/status', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const entity = await service.setLegalPersonStatus(
      state(ctx).admin,
      str(ctx.params.code),
      str(form.action),
      ctx.ip,
    );
    ctx.status = 303;
    ctx.redirect(`/admin/legal-persons?q=${entity.creditCode}&done=${entity.status}`);
  });

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
      rows: rows.map((row) => ({ ...row, at: row.at.toISOString(), details: JSON.stringify(row.details) })),
      csv: `/admin/audit?${new URLSearchParams({ ...(ctx.query as Record<string, string>), format: 'csv' })}`,
    });
  });

  return router;
}
