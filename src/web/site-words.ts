/**
 * Yitong's own pages (My account) sign in through the provider as a client registered under a
 * Chinese name and department; a page names that client in the reader's language. Every other
 * site is named as it registered itself.
 *
 * @example
 *   siteInWords(ctx, 'yitong-account', site);   // { name: 'My account', department: 'Yitong', … } in English
 *   siteNameInWords(ctx, 'tax', '电子税务局');    // '电子税务局'
 */
import type { Context } from 'koa';
import { ACCOUNT_CLIENT_ID } from '../oidc/grants.ts';
import { tr } from './render.ts';

export function siteInWords<T extends { name: string; department: string }>(
  ctx: Context,
  clientId: unknown,
  site: T,
): T {
  if (clientId !== ACCOUNT_CLIENT_ID) return site;
  return { ...site, name: tr(ctx, 'site.account.name'), department: tr(ctx, 'site.account.department') };
}

export const siteNameInWords = (ctx: Context, clientId: unknown, name: string): string =>
  clientId === ACCOUNT_CLIENT_ID ? tr(ctx, 'site.account.name') : name;
