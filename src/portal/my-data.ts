/**
 * What the portal shows a citizen about their data: the government services menu (every site
 * with a public home page, grouped by department, marked where they have used it) and the
 * data-release ledger (谁用了我的数据): every release of claims to a site, newest first, paged,
 * exportable as CSV. The ledger reads the audit trail, so nothing is released without
 * appearing there.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AccountsRepo } from '../accounts/repo.ts';
import { toCsv } from '../audit/csv.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { isMessageKey, type MessageKey } from '../messages/index.ts';
import { claimsOf } from '../oidc/accounts.ts';
import type { Sites } from '../oidc/sites.ts';
import type { Catalogue } from '../oidc/verified-claims.ts';
import { confirmFirst } from '../web/confirm.ts';
import { formOf, intParam, MAX_BIGINT, str } from '../web/form.ts';
import { localeOf, requireCsrf } from '../web/middleware.ts';
import { beijingTime, render, tr } from '../web/render.ts';
import { servicesMenu } from './services.ts';
import type { PortalState } from './session.ts';

const PAGE = 50;

const serviceWords = (service: { service_item?: unknown; purpose?: unknown }) => ({
  item: String(service.service_item ?? ''),
  purpose: String(service.purpose ?? ''),
});

export interface MyDataDeps {
  accountsRepo: Pick<AccountsRepo, 'listConsents' | 'listReleases' | 'siteGrants'>;
  sites: Pick<Sites, 'revoke'>;
  siteOf(clientId: string): Promise<{ name: string; department: string; purpose: string }>;
  clientsRepo: Pick<ClientsRepo, 'listPublicSites'>;
  catalogue: Catalogue;
}

export function myDataRoutes(deps: MyDataDeps): Router {
  const router = new Router();
  const me = (ctx: Context) => (ctx.state as PortalState).person;
  const siteWords = async (clientId: string) => {
    const { name, department } = await deps.siteOf(clientId);
    return { site: name, department };
  };

  router.get('/account/services', async (ctx) => {
    const q = str(ctx.query.q);
    const [sites, consents] = await Promise.all([
      deps.clientsRepo.listPublicSites(),
      deps.accountsRepo.listConsents(me(ctx).id),
    ]);
    const used = new Set(consents.map((consent) => consent.clientId));
    render(ctx, 'services', {
      title: 'services.title',
      q,
      groups: servicesMenu(sites, q, tr(ctx, 'services.other'), used),
    });
  });

  router.get('/account/sites', async (ctx) => {
    const person = me(ctx);
    const [consents, grants] = await Promise.all([
      deps.accountsRepo.listConsents(person.id),
      deps.accountsRepo.siteGrants(person.id),
    ]);
    const lastUsed = new Map<string, Date>();
    for (const grant of grants)
      if (!(grant.lastUsedAt <= (lastUsed.get(grant.clientId) ?? new Date(0))))
        lastUsed.set(grant.clientId, grant.lastUsedAt);
    render(ctx, 'sites', {
      title: 'sites.title',
      // Only a site the directory knows: the query string cannot put words on the page.
      notice:
        typeof ctx.query.revoked === 'string' && (await deps.siteOf(ctx.query.revoked)).department
          ? tr(ctx, 'sites.done', await siteWords(ctx.query.revoked))
          : undefined,
      sites: await Promise.all(
        consents.map(async (consent) => ({
          clientId: consent.clientId,
          ...(await deps.siteOf(consent.clientId)),
          claims: claimsOf(consent.scopes.split(' ')).map((claim) => tr(ctx, `claim.${claim}` as MessageKey)),
          since: consent.since,
          lastUsed: lastUsed.get(consent.clientId),
        })),
      ),
    });
  });

  router.post('/account/sites/:clientId/revoke', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const clientId = str(ctx.params.clientId);
    const lead = tr(ctx, 'confirm.revoke', await siteWords(clientId));
    if (!confirmFirst(ctx, form, { title: 'confirm.revoke.title', lead, back: '/account/sites' })) return;
    await deps.sites.revoke(me(ctx).id, clientId, ctx.ip);
    ctx.status = 303;
    ctx.redirect(`/account/sites?revoked=${encodeURIComponent(clientId)}`);
  });

  router.get('/account/releases', async (ctx) => {
    const csv = ctx.query.format === 'csv';
    const before = intParam(ctx.query.before, 'before', 1n, MAX_BIGINT)?.toString();
    const rows = await deps.accountsRepo.listReleases(
      me(ctx).id,
      csv ? 100_000 : PAGE,
      csv ? undefined : before,
    );
    const sites = new Map<string, Awaited<ReturnType<MyDataDeps['siteOf']>>>();
    for (const row of rows) {
      const clientId = String(row.details.client_id ?? '');
      if (!sites.has(clientId)) sites.set(clientId, await deps.siteOf(clientId));
    }
    const releases = rows.map((row) => ({
      at: row.at,
      site: sites.get(String(row.details.client_id ?? '')),
      use: str(row.details.use),
      claims: Array.isArray(row.details.claims) ? row.details.claims.map(String) : [],
      // Verified items, each with the department it came from, and the purpose stated for them.
      items: (Array.isArray(row.details.items) ? row.details.items : []).map((entry) => {
        const { item, source } = entry as { item?: unknown; source?: unknown };
        const name = deps.catalogue.get(String(item))?.name[localeOf(ctx)] ?? tr(ctx, 'claim.identity');
        return source ? tr(ctx, 'releases.item', { item: name, source: String(source) }) : name;
      }),
      service: row.details.purpose ? serviceWords(row.details.purpose as object) : undefined,
    }));
    if (csv) {
      // In the citizen's language: local time, the site and its department, claims and purpose in words.
      const word = (key: string) => (isMessageKey(key) ? tr(ctx, key) : key);
      const words = (keys: string[]) =>
        keys.map((key) => word(`claim.${key}`)).join(tr(ctx, 'list.separator'));
      ctx.set('content-disposition', 'attachment; filename="releases.csv"');
      ctx.type = 'text/csv; charset=utf-8';
      ctx.body = toCsv(
        tr(ctx, 'releases.csv.header').split('|'),
        releases.map((row) => [
          beijingTime(row.at),
          row.site?.name,
          row.site?.department,
          word(`releases.use.${row.use}`),
          words(row.claims),
          row.items.join(tr(ctx, 'list.separator')),
          row.service ? tr(ctx, 'releases.service', row.service) : row.site?.purpose,
        ]),
      );
      return;
    }
    render(ctx, 'releases', {
      title: 'releases.title',
      rows: releases,
      next: rows.length === PAGE ? rows.at(-1)?.seq : undefined,
    });
  });

  return router;
}
