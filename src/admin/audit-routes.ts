/**
 * The console's audit trail (`/admin/audit`): filtered by person, site, action and dates, in the
 * reader's words, or exported as CSV. Mounted by admin/routes.ts behind its administrator check.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { auditCsv } from '../audit/csv.ts';
import { isAppError } from '../errors.ts';
import { AUDIT_ACTIONS } from '../messages/audit.ts';
import { isMessageKey, type MessageKey } from '../messages/index.ts';
import { str } from '../web/form.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import { siteNameInWords } from '../web/site-words.ts';
import { auditFilterOf, auditRowView } from './audit-view.ts';
import type { Admin } from './regions.ts';
import type { AdminService } from './service.ts';

export type Words = Parameters<typeof auditRowView>[1];

/** The reader's words for audit rows: messages, and the sites `clientIds` name, each looked up once. */
export function auditWords(siteName: (clientId: string) => Promise<string>) {
  return async (ctx: Context, clientIds: Iterable<unknown>) => {
    const ids = new Set([...clientIds].filter((id): id is string => typeof id === 'string'));
    const names = new Map(
      await Promise.all(
        [...ids].map(async (id) => [id, siteNameInWords(ctx, id, await siteName(id))] as const),
      ),
    );
    return {
      word: (key: string) => (isMessageKey(key) ? tr(ctx, key) : undefined),
      separator: tr(ctx, 'list.separator'),
      site: (id: string) => names.get(id) ?? id,
    };
  };
}

/** The filter's actions, chosen by their words; a prefix given in the address (`legal_person`) is offered as itself. */
function actionChoices(ctx: Context, asked: string) {
  const words = AUDIT_ACTIONS.map((code) => ({ code, words: tr(ctx, `audit.${code}` as MessageKey) }));
  return asked && !AUDIT_ACTIONS.includes(asked) ? [...words, { code: asked, words: asked }] : words;
}

export function auditRoutes(deps: {
  service: AdminService;
  state: (ctx: Context) => { admin: Admin };
  page: (ctx: Context) => Record<string, unknown>;
  wordsFor: (ctx: Context, clientIds: Iterable<unknown>) => Promise<Words>;
}): Router {
  const router = new Router();

  /** Audit rows in the reader's words. */
  async function inWords(ctx: Context, rows: Awaited<ReturnType<AdminService['searchAudit']>>) {
    const ids: unknown[] = [];
    for (const row of rows) {
      const { client_id: one, clients: many } = row.details as { client_id?: unknown; clients?: unknown };
      ids.push(one, ...(Array.isArray(many) ? many : []));
      if (row.action.startsWith('client.')) ids.push(row.subject);
    }
    const words = await deps.wordsFor(ctx, ids);
    return rows.map((row) => auditRowView(row, words));
  }

  router.get('/admin/audit', async (ctx) => {
    const data = {
      title: 'admin.audit.title' as const,
      ...deps.page(ctx),
      filter: Object.fromEntries(Object.entries(ctx.query).map(([key, value]) => [key, str(value)])),
      actions: actionChoices(ctx, str(ctx.query.action)),
      csv: `/admin/audit?${new URLSearchParams({ ...(ctx.query as Record<string, string>), format: 'csv' })}`,
    };
    let filter: ReturnType<typeof auditFilterOf>;
    try {
      filter = auditFilterOf(ctx.query);
    } catch (error) {
      // A wrong date: said next to its field, the filters kept to correct.
      if (!isAppError(error) || ctx.query.format === 'csv') throw error;
      return renderWithError(ctx, 'admin-audit', { ...data, rows: [] }, error);
    }
    const rows = await deps.service.searchAudit(
      deps.state(ctx).admin,
      filter,
      ctx.query.format === 'csv' ? 10_000 : 200,
    );
    if (ctx.query.format === 'csv') {
      ctx.set('content-disposition', 'attachment; filename="audit.csv"');
      ctx.type = 'text/csv; charset=utf-8';
      ctx.body = auditCsv(rows);
      return;
    }
    render(ctx, 'admin-audit', { ...data, rows: await inWords(ctx, rows), errors: {} });
  });

  return router;
}
