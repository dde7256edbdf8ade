/**
 * The province's front door (`/`): sign in or go to My page, register, recover a password, and
 * the government services menu with search, for everyone.
 */
import Router from '@koa/router';
import type { ClientsRepo } from '../clients/repo.ts';
import { str } from '../web/form.ts';
import { render, tr } from '../web/render.ts';
import { servicesMenu } from './services.ts';
import type { PortalSession } from './session.ts';

export function homeRoutes(deps: {
  portal: Pick<PortalSession, 'current'>;
  clientsRepo: Pick<ClientsRepo, 'listPublicSites'>;
}) {
  const router = new Router();
  router.get('/', async (ctx) => {
    const q = str(ctx.query.q);
    const [signedIn, sites] = await Promise.all([
      deps.portal.current(ctx),
      deps.clientsRepo.listPublicSites(),
    ]);
    if (signedIn) Object.assign(ctx.state, signedIn); // the header offers to sign out
    render(ctx, 'home', {
      title: 'home.title',
      person: signedIn && { name: signedIn.person.name },
      q,
      groups: servicesMenu(sites, q, tr(ctx, 'services.other')),
    });
  });
  return router;
}
