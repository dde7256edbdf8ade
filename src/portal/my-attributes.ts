/**
 * 我的证照与数据 (`/account/data`): everything a source department verified about the person —
 * each item with its type's name, its fields, the department that published it, when it was
 * verified and until when it holds (an expired one says so), the sites it was given to (from the
 * ledger), and "this is wrong": a correction request to that department, shown with its answer.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AttributeType } from '../attributes/catalogue.ts';
import type { AttributesRepo } from '../attributes/repo.ts';
import { AppError, isAppError } from '../errors.ts';
import { isMessageKey } from '../messages/index.ts';
import { findTextProblem } from '../text.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, tr } from '../web/render.ts';
import type { PortalState } from './session.ts';

export interface MyAttributesDeps {
  attributesRepo: Pick<
    AttributesRepo,
    'listForHolder' | 'receivedBy' | 'correctionsOf' | 'requestCorrection'
  >;
  catalogue: ReadonlyMap<string, AttributeType>;
  siteOf(clientId: string): Promise<{ name: string; department: string; purpose: string }>;
}

/**
 * A value's fields as a person reads them: in the order and words of the type's labels (the
 * database keeps its own key order), lists joined as the language writes them.
 */
function fieldsOf(
  value: unknown,
  type: AttributeType | undefined,
  locale: 'zh-CN' | 'en',
  separator: string,
  /** A field's value in words where it is a code people do not read (a certificate's status). */
  words: (field: string, value: unknown) => string,
) {
  if (typeof value !== 'object' || value === null) return [{ name: '', text: String(value) }];
  const order = Object.keys(type?.labels ?? {});
  const rank = (field: string) => (order.includes(field) ? order.indexOf(field) : order.length);
  return Object.entries(value)
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([field, item]) => ({
      name: type?.labels[field]?.[locale] ?? field,
      text: Array.isArray(item) ? item.map(String).join(separator) : words(field, item),
    }));
}

export function myAttributesRoutes(deps: MyAttributesDeps): Router {
  const router = new Router();
  const me = (ctx: Context) => (ctx.state as PortalState).person;

  /** The page; `wrong` is a correction form sent back with what to fix. */
  async function show(ctx: Context, wrong?: { code: string; message: string; error: string }) {
    const locale = (ctx.state as { locale: 'zh-CN' | 'en' }).locale;
    const person = me(ctx).id;
    const [rows, received, corrections] = await Promise.all([
      deps.attributesRepo.listForHolder(person),
      deps.attributesRepo.receivedBy(person),
      deps.attributesRepo.correctionsOf(person),
    ]);
    const items = await Promise.all(
      rows.map(async (row) => {
        const type = deps.catalogue.get(row.type_code);
        const sites = received.filter((r) => r.item === row.type_code);
        return {
          code: row.type_code,
          name: type ? type.name[locale] : row.type_code,
          fields: fieldsOf(row.value, type, locale, tr(ctx, 'list.separator'), (field, value) => {
            const key = `certificate.status.${String(value)}`;
            return type?.certificate && field === 'status' && isMessageKey(key)
              ? tr(ctx, key)
              : String(value);
          }),
          // A certificate that is revoked or expired says so next to its name.
          status: type?.certificate ? (row.value as { status?: string }).status : undefined,
          source: (await deps.siteOf(row.source_client_id)).department,
          verifiedAt: row.verified_at,
          validUntil: row.valid_until,
          expired: row.valid_until !== null && row.valid_until < new Date(),
          receivedBy: await Promise.all(sites.map(async (r) => (await deps.siteOf(r.client_id)).name)),
          correction: corrections.find((c) => c.type_code === row.type_code),
          wrong: wrong?.code === row.type_code ? wrong : undefined,
        };
      }),
    );
    render(ctx, 'my-attributes', { title: 'attributes.title', items, sent: ctx.query.sent });
  }

  router.get('/account/data', (ctx) => show(ctx));

  router.post('/account/data/correction', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const code = str(form.type);
    const message = str(form.message).trim();
    const person = me(ctx).id;
    try {
      if (message.length < 2 || message.length > 500 || findTextProblem(message))
        throw new AppError('attribute.correction.message', 400);
      await deps.attributesRepo.requestCorrection(person, code, message, {
        actor: person,
        action: 'attribute.correction.requested',
        subject: person,
        ip: ctx.ip,
        details: { type: code },
      });
    } catch (error) {
      if (!isAppError(error)) throw error;
      ctx.status = error.status;
      return show(ctx, { code, message, error: tr(ctx, error.code, error.params) });
    }
    ctx.status = 303;
    ctx.redirect(`/account/data?sent=${encodeURIComponent(code)}#data-${encodeURIComponent(code)}`);
  });

  return router;
}
