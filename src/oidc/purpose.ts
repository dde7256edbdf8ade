/**
 * A sensitive type is released only for a service item the site's manifest lists and a purpose
 * the site states: a Rich Authorization Request (RFC 9396) of Yitong's one type,
 * `yitong_service_item`. The consent page shows both, the grant keeps them, and each access token
 * carries the purpose it was issued for.
 *
 * @example
 *   authorization_details=[{"type":"yitong_service_item","service_item":"hk-01","purpose":"落户审核"}]
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { isPlainLine } from '../text.ts';
import { type Catalogue, isObject, parsed, requestedItems, scopeOf } from './verified-claims.ts';

export const SERVICE_ITEM_TYPE = 'yitong_service_item';

export interface ServiceItem {
  code: string;
  name: string;
}

export interface Purpose {
  service_item: string;
  purpose: string;
}

/** The service item and purpose among `authorization_details` (JSON text or parsed). */
export const purposeIn = (details: unknown): Purpose | undefined => {
  const list = parsed(details);
  const found = (Array.isArray(list) ? list : []).find(
    (detail): detail is Purpose => isObject(detail) && detail.type === SERVICE_ITEM_TYPE,
  );
  return found && { service_item: found.service_item, purpose: found.purpose };
};

/**
 * `authorization_details`: one detail of type `yitong_service_item`, naming a service item the
 * site's manifest lists and a purpose in one line; and a request for a sensitive type the site
 * may have must carry it.
 */
export function checkAuthorizationDetails(
  ctx: KoaContextWithOIDC,
  value: unknown,
  serviceItems: unknown,
  catalogue: Catalogue,
): void {
  if (value !== undefined) {
    const details = parsed(value);
    if (details === undefined)
      throw new errors.InvalidAuthorizationDetails('authorization_details must be JSON');
    if (!Array.isArray(details) || details.length !== 1 || !isObject(details[0]))
      throw new errors.InvalidAuthorizationDetails('authorization_details must be an array of one object');
    const [detail] = details;
    if (detail.type !== SERVICE_ITEM_TYPE)
      throw new errors.InvalidAuthorizationDetails(`the only type supported is ${SERVICE_ITEM_TYPE}`);
    const listed = Array.isArray(serviceItems) ? (serviceItems as ServiceItem[]) : [];
    if (!listed.some((item) => item.code === detail.service_item))
      throw new errors.InvalidAuthorizationDetails(
        'service_item is not one of the service items this site is registered for',
      );
    const { purpose } = detail;
    if (
      typeof purpose !== 'string' ||
      purpose.trim().length < 2 ||
      purpose.length > 100 ||
      !isPlainLine(purpose)
    )
      throw new errors.InvalidAuthorizationDetails('purpose must be one line of 2–100 characters');
    const extra = Object.keys(detail).filter((key) => !['type', 'service_item', 'purpose'].includes(key));
    if (extra.length) throw new errors.InvalidAuthorizationDetails(`unknown members: ${extra.join(', ')}`);
  }
  const allowed = new Set(String(ctx.oidc.client?.scope ?? '').split(' '));
  const sensitive = [...requestedItems(ctx.oidc.params ?? {}, catalogue)].filter(
    (item) => catalogue.get(item)?.sensitivity === 'sensitive' && allowed.has(scopeOf(item)),
  );
  if (sensitive.length && value === undefined)
    throw new errors.InvalidRequest(
      `${sensitive.join(', ')} is sensitive: state the service item and purpose in authorization_details (type ${SERVICE_ITEM_TYPE})`,
    );
}

/** The purpose the access token in hand was issued for (stamped on it from the grant). */
export function purposeOf(ctx: KoaContextWithOIDC): Purpose | undefined {
  const stamped = (ctx.oidc.entities.AccessToken as { extra?: { purpose?: Purpose } } | undefined)?.extra;
  return stamped?.purpose ?? purposeIn(ctx.oidc.grant?.rar);
}
