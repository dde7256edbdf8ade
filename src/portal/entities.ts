/**
 * The enterprise pages of the portal (`/account/entities`): the entities a person acts for,
 * registering a new one, and each entity's own page — its details, its people with their roles,
 * site limits and end dates, authorising and revoking them (administrators only), and the
 * departmental sites its people have acted for it at.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { ClientsRepo } from '../clients/repo.ts';
import { AppError, isAppError } from '../errors.ts';
import { CLAIM_DAYS, ENTITY_TYPES } from '../legal-persons/registration.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import type { PortalState } from './session.ts';

const me = (ctx: Context) => ctx.state as PortalState;
const NOTICES = {
  registered: 'entity.done.registered',
  claimed: 'entity.done.claimed',
  granted: 'entity.done.granted',
  revoked: 'entity.done.revoked',
} as const;

/** The sites ticked on the grant form (`client_<id>`): only those it offers, as the service reads them. */
function clientsOf(form: Record<string, string>, offered: Array<{ id: string }>): string {
  const ids = Object.keys(form)
    .filter((key) => key.startsWith('client_') && form[key] === 'yes')
    .map((key) => key.slice('client_'.length));
  const unknown = ids.find((id) => !offered.some((site) => site.id === id));
  if (unknown !== undefined)
    throw new AppError('legal_person.unknown_client', 400, {
      field: 'clients',
      params: { client: unknown.slice(0, 64) },
    });
  return ids.join(',');
}

export function entityRoutes(deps: {
  legalPersons: LegalPersonsService;
  siteName(clientId: string): Promise<string>;
  clientsRepo: Pick<ClientsRepo, 'listLegalPersonSites'>;
}) {
  const { legalPersons } = deps;
  const router = new Router();

  async function list(ctx: Context, form: Record<string, unknown> = {}, error?: AppError) {
    const data = {
      title: 'entities.title' as const,
      entities: await legalPersons.listForPerson(me(ctx).person.id),
      types: ENTITY_TYPES,
      form,
    };
    if (error) return renderWithError(ctx, 'entities', data, error);
    render(ctx, 'entities', { ...data, errors: {} });
  }

  async function page(ctx: Context, form: Record<string, unknown> = {}, error?: AppError) {
    const view = await legalPersons.page(me(ctx).person.id, str(ctx.params.code));
    const uses = await Promise.all(
      view.uses.map(async (use) => ({
        ...use,
        site: await deps.siteName(use.clientId),
        lastUsedAt: use.lastUsedAt.toISOString().slice(0, 10),
      })),
    );
    // Limits are shown and chosen by the sites' names, never ids a person does not know.
    const members = await Promise.all(
      view.members.map(async (member) => ({
        ...member,
        sites: member.clientIds && (await Promise.all(member.clientIds.map(deps.siteName))),
      })),
    );
    const done = pick(NOTICES, ctx.query.done);
    const data = {
      title: 'entity.page.title' as const,
      ...view,
      members,
      sites: view.manages ? await deps.clientsRepo.listLegalPersonSites() : [],
      uses,
      self: me(ctx).person.id,
      form,
      notice: done && tr(ctx, done, { days: CLAIM_DAYS }),
    };
    if (error) return renderWithError(ctx, 'entity', data, error);
    render(ctx, 'entity', { ...data, errors: {} });
  }

  /** Runs a change; on a domain error shows the form again with it, otherwise redirects with a notice. */
  async function change(
    ctx: Context,
    run: () => Promise<string>,
    again: (form: Record<string, unknown>, error: AppError) => Promise<void>,
  ) {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      const location = await run();
      ctx.status = 303;
      ctx.redirect(location);
    } catch (error) {
      // Not allowed at all: the error page, never the form again.
      if (!isAppError(error) || error.status === 403) throw error;
      await again(form, error);
    }
  }

  router.get('/account/entities', (ctx) => list(ctx));

  router.post('/account/entities', (ctx) =>
    change(
      ctx,
      async () => {
        const form = formOf(ctx);
        const entity = await legalPersons.register(
          me(ctx).person,
          {
            creditCode: str(form.credit_code),
            name: str(form.name),
            type: str(form.type),
            role: str(form.role),
            representativeIdNumber: str(form.representative_id_number),
          },
          ctx.ip,
        );
        return `/account/entities/${entity.creditCode}?done=${entity.status === 'pending' ? 'claimed' : 'registered'}`;
      },
      (form, error) => list(ctx, form, error),
    ),
  );

  router.get('/account/entities/:code', (ctx) => page(ctx));

  router.post('/account/entities/:code/members', (ctx) =>
    change(
      ctx,
      async () => {
        const form = formOf(ctx);
        const code = str(ctx.params.code);
        await legalPersons.grant(
          { personId: me(ctx).person.id },
          code,
          {
            idNumber: str(form.id_number),
            role: str(form.role),
            clients: clientsOf(form, await deps.clientsRepo.listLegalPersonSites()),
            until: str(form.until),
          },
          ctx.ip,
        );
        return `/account/entities/${code}?done=granted`;
      },
      (form, error) => page(ctx, form, error),
    ),
  );

  router.post('/account/entities/:code/members/:member/revoke', (ctx) =>
    change(
      ctx,
      async () => {
        const code = str(ctx.params.code);
        await legalPersons.revoke(
          { personId: me(ctx).person.id },
          code,
          { personId: str(ctx.params.member) },
          ctx.ip,
        );
        return `/account/entities/${code}?done=revoked`;
      },
      (form, error) => page(ctx, form, error),
    ),
  );

  return router;
}
