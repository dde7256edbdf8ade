/**
 * Server-rendered pages: Nunjucks with auto-escaping, one layout, every string from messages.ts.
 *
 * @example
 *   render(ctx, 'login', { title: 'login.title', idNumber }); // views/login.njk
 */
import type { Context } from 'koa';
import nunjucks from 'nunjucks';
import type { AppError } from '../errors.ts';
import { regionName } from '../identity/regions.ts';
import { isMessageKey, type Locale, type MessageKey, translate } from '../messages/index.ts';
import { END_SESSION_PATH } from '../oidc/provider.ts';
import { languagePath } from './language-link.ts';

const VIEWS_DIR = new URL('../../views/', import.meta.url).pathname;

const environment = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS_DIR), {
  autoescape: true,
});
// Times as people in the province read them: China Standard Time, `2026-11-22 14:05`.
const beijing = (options: Intl.DateTimeFormatOptions) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', ...options });
const dayFormat = beijing({ dateStyle: 'short' });
const timeFormat = beijing({ dateStyle: 'short', timeStyle: 'short' });
/** `2026-11-22 14:05`, China Standard Time: for pages and the exports people read. */
export const beijingTime = (date: Date) => timeFormat.format(date);
environment.addFilter('day', (date?: Date) => date && dayFormat.format(date));
environment.addFilter('time', (date?: Date) => date && beijingTime(date));
environment.addFilter('region', (code: string) => regionName(code));

export interface PageState {
  locale: Locale;
  languagePath?: string;
  nonce?: string;
  csrf?: string;
}

export type PageData = Record<string, unknown> & { title: MessageKey };

export function renderPage(view: string, data: PageData, state: PageState): string {
  const t = (key: string, params?: Record<string, string | number>) =>
    isMessageKey(key) ? translate(state.locale, key, params) : key;
  /** Items joined as the language writes a list (、 or a comma); with `prefix`, each a message key. */
  const list = (items: readonly string[], prefix = '') =>
    items.map((item) => (prefix ? t(prefix + item) : item)).join(t('list.separator'));
  // Only what the layout needs from the request state: other state (the session) stays out of pages.
  const { locale, nonce, csrf, languagePath: languageBase = '' } = state;
  const otherLocale = locale === 'en' ? 'zh-CN' : 'en';
  return environment.render(`${view}.njk`, {
    ...data,
    locale,
    nonce,
    csrf,
    // Signed in on our own pages (My page, /staff, /admin): the header offers to sign out.
    signOut: 'person' in state ? END_SESSION_PATH : undefined,
    t,
    list,
    otherLocale,
    languageHref: `${languageBase}?lang=${otherLocale}`,
  });
}

export function render(
  ctx: Pick<Context, 'state' | 'type' | 'body' | 'set' | 'method' | 'path'>,
  view: string,
  data: PageData,
): void {
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  // Worked out for a page only: the protocol's own answers (token, UserInfo) never need it.
  const state = { ...(ctx.state as PageState), languagePath: languagePath(ctx.method, ctx.path) };
  ctx.body = renderPage(view, data, state);
}

export function tr(ctx: Context, key: MessageKey, params?: Record<string, string | number>): string {
  return translate((ctx.state as PageState).locale, key, params);
}

/**
 * Renders a form again with what went wrong next to each field it concerns (the first one
 * focused: `errors._first`), or above the form.
 */
export function renderWithError(ctx: Context, view: string, data: PageData, error: AppError) {
  ctx.status = error.status;
  const text = (e: AppError) => tr(ctx, e.code, e.params);
  if (!error.field) return render(ctx, view, { ...data, error: text(error), errors: {} });
  const errors: Record<string, string> = { _first: error.field };
  for (const each of [error, ...error.also]) if (each.field) errors[each.field] ??= text(each);
  render(ctx, view, { ...data, errors });
}
