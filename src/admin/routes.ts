/**
 * The admin console (`/admin`): search and manage accounts, legal persons and the audit trail
 * within the administrator's region. Only administrators reach it (everyone else: 403), and only
 * signed in with at least two factors (a weaker session is sent to step up first). Its site pages
 * are in client-routes.ts.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { ACR } from '../auth/strength.ts';
import { AppError } from '../errors.ts';
import type { Upstream } from '../federation/upstreams.ts';
import { parseCreditCodeOrThrow } from '../legal-persons/registration.ts';
import type { Catalogue } from '../oidc/verified-claims.ts';
import type { PortalSession, PortalState } from '../portal/session.ts';
import { confirmFirst } from '../web/confirm.ts';
import { formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, tr } from '../web/render.ts';
import { auditRoutes, auditWords } from './audit-routes.ts';
import { signInView } from './audit-view.ts';
import { clientRoutes } from './client-routes.ts';
import { dataRoutes } from './data-routes.ts';
import type { Admin } from './regions.ts';
import { type AdminService, PERSON_ACTIONS } from './service.ts';

/** Actions on a person that are confirmed first: they end the person's sign-ins. */
const CONFIRMED_ACTIONS = {
  lock: { title: 'confirm.lock.title', lead: 'confirm.lock' },
  'sign-out': { title: 'confirm.sign_out_person.title', lead: 'confirm.sign_out_person' },
} as const;

type AdminState = PortalState & { admin: Admin };

interface SavedSearch {
  q: string;
  /** The administrator who searched: nobody else sees it. */
  by: string;
}
const SEARCH_SECONDS = 30 * 60;
const searchKey = (id: string) => `admin:search:${id}`;

export function adminRoutes(deps: {
  portal: PortalSession;
  admin: AdminService;
  ephemeral: EphemeralStore;
  siteName(clientId: string): Promise<string>;
  catalogue: Catalogue;
  upstreams: ReadonlyMap<string, Upstream>;
}): Router {
  const { admin: service } = deps;
  const router = new Router();
  const wordsFor = auditWords(deps.siteName);
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

  // A POST, so that identity numbers never sit in a URL (access logs, proxies, history). The
  // search is kept for its administrator under a random id, and its results are a page of their
  // own: Back from a person returns to them, not to "resubmit the form?".
  router.post('/admin/search', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const search: SavedSearch = { q: str(form.q).slice(0, 100), by: state(ctx).person.id };
    const id = randomBytes(16).toString('base64url');
    await deps.ephemeral.put(searchKey(id), search, SEARCH_SECONDS);
    ctx.status = 303;
    ctx.redirect(`/admin/search/${id}`);
  });

  router.get('/admin/search/:id', async (ctx) => {
    const search = await deps.ephemeral.peek<SavedSearch>(searchKey(str(ctx.params.id)));
    // Expired, or another administrator's: the empty form again.
    if (search?.by !== state(ctx).person.id) return ctx.redirect('/admin');
    render(ctx, 'admin', {
      title: 'admin.title',
      ...page(ctx),
      q: search.q,
      people: await service.searchPeople(state(ctx).admin, search.q),
    });
  });

  router.get('/admin/people/:id', async (ctx) => {
    const { signIns, ...account } = await service.account(state(ctx).admin, str(ctx.params.id));
    const clientIds = signIns.map((row) => (row.details as { client_id?: unknown }).client_id);
    const words = await wordsFor(ctx, clientIds);
    render(ctx, 'admin-person', {
      title: 'admin.person.title',
      ...page(ctx),
      ...account,
      signIns: signIns.map((row) => signInView(row, words)),
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
      // Asked only of someone who may do it: a read-only auditor gets the 403 at once.
      const person = await service.personToChange(state(ctx).admin, id);
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

  router.use(clientRoutes({ service, page, state }).routes());
  router.use(dataRoutes({ service, page, state, ...deps }).routes());
  router.use(auditRoutes({ service, page, state, wordsFor }).routes());

  return router;
}
