/**
 * 我的证照与数据 (`/account/data`): everything a source department verified about the person —
 * each item with its type's name, its fields, the department that published it, when it was
 * verified and until when it holds (an expired one says so).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { AttributeType } from '../attributes/catalogue.ts';
import type { AttributesRepo } from '../attributes/repo.ts';
import { isMessageKey } from '../messages/index.ts';
import { render, tr } from '../web/render.ts';
import type { PortalState } from './session.ts';

export interface MyAttributesDeps {
  attributesRepo: Pick<AttributesRepo, 'listForHolder'>;
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

  router.get('/account/data', async (ctx) => {
    const locale = (ctx.state as { locale: 'zh-CN' | 'en' }).locale;
    const rows = await deps.attributesRepo.listForHolder(me(ctx).id);
    const items = await Promise.all(
      rows.map(async (row) => {
        const type = deps.catalogue.get(row.type_code);
        return {
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
        };
      }),
    );
    render(ctx, 'my-attributes', { title: 'attributes.title', items });
  });

  return router;
}
