/**
 * The console's data page (`/admin/data`): the catalogue of verified data types as the nodes
 * loaded it, and the people's "this is wrong" requests to the source departments of the
 * administrator's region, each answerable there (the answer shows on the person's page).
 * Mounted by admin/routes.ts behind its administrator check.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { isAppError } from '../errors.ts';
import { type Upstream, upstreamView } from '../federation/upstreams.ts';
import type { Catalogue } from '../oidc/verified-claims.ts';
import { scopeOf } from '../oidc/verified-claims.ts';
import { formOf, str } from '../web/form.ts';
import { localeOf, requireCsrf } from '../web/middleware.ts';
import { render, tr } from '../web/render.ts';
import type { Admin } from './regions.ts';
import type { AdminService } from './service.ts';

export function dataRoutes(deps: {
  service: AdminService;
  catalogue: Catalogue;
  upstreams: ReadonlyMap<string, Upstream>;
  siteName(clientId: string): Promise<string>;
  page(ctx: Context): Record<string, unknown>;
  state(ctx: Context): { admin: Admin };
}): Router {
  const router = new Router();

  async function show(ctx: Context, failed?: { id: string; answer: string; error: string }) {
    const locale = localeOf(ctx);
    const open = await deps.service.openCorrections(deps.state(ctx).admin);
    render(ctx, 'admin-data', {
      title: 'admin.data.title',
      ...deps.page(ctx),
      types: [...deps.catalogue.values()].map((type) => ({
        ...type,
        label: type.name[locale],
        scope: scopeOf(type.code),
      })),
      corrections: await Promise.all(
        open.map(async (row) => ({
          ...row,
          type: deps.catalogue.get(row.type_code)?.name[locale] ?? row.type_code,
          site: await deps.siteName(row.source_client_id),
          failed: failed?.id === row.id ? failed : undefined,
        })),
      ),
      answered: ctx.query.answered !== undefined,
      upstreams: [...deps.upstreams.values()].map((upstream) => ({
        ...upstreamView(upstream),
        label: upstream.name[locale],
      })),
    });
  }

  router.get('/admin/data', (ctx) => show(ctx));

  router.post('/admin/data/corrections/:id', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const id = ctx.params.id ?? '';
    try {
      await deps.service.answerCorrection(deps.state(ctx).admin, id, str(form.answer), ctx.ip);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'attribute.correction.answer') throw error;
      ctx.status = error.status;
      return show(ctx, { id, answer: str(form.answer), error: tr(ctx, error.code) });
    }
    ctx.status = 303;
    ctx.redirect('/admin/data?answered');
  });

  return router;
}
