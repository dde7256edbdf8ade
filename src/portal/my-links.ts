/**
 * 关联的其他平台账号 (`/account/links`): the person's accounts at upstream identity providers
 * linked to this one (when, last used), each removable; removing is audited, and the next sign-in
 * through that upstream links again only by the linking rules (federation/linking.ts).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Federation } from '../federation/linking.ts';
import type { Upstream } from '../federation/upstreams.ts';
import { formOf } from '../web/form.ts';
import { localeOf, requireCsrf } from '../web/middleware.ts';
import { render } from '../web/render.ts';
import type { PortalState } from './session.ts';

export interface MyLinksDeps {
  federation: Pick<Federation, 'linksOf' | 'unlink'>;
  upstreams: ReadonlyMap<string, Upstream>;
}

export function myLinksRoutes(deps: MyLinksDeps): Router {
  const router = new Router();
  const me = (ctx: Context) => (ctx.state as PortalState).person;

  router.get('/account/links', async (ctx) => {
    const links = await deps.federation.linksOf(me(ctx).id);
    render(ctx, 'my-links', {
      title: 'federation.links',
      links: links.map((link) => ({
        id: link.upstream_id,
        name: deps.upstreams.get(link.upstream_id)?.name[localeOf(ctx)] ?? link.upstream_id,
        since: link.created_at,
        used: link.last_used_at,
      })),
      removed: ctx.query.removed !== undefined,
    });
  });

  router.post('/account/links/:id/remove', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await deps.federation.unlink(me(ctx).id, ctx.params.id ?? '', ctx.ip);
    ctx.status = 303;
    ctx.redirect('/account/links?removed');
  });

  return router;
}
