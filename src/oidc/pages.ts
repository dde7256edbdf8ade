/**
 * The pages the engine itself shows a person: its error page and the two sign-out pages, in the
 * reader's language, with what to do next.
 */
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { UpstreamLogouts } from '../federation/logout.ts';
import { type MessageKey, translate } from '../messages/index.ts';
import { isOutage, RETRY_AFTER_SECONDS } from '../outage.ts';
import { localeOf } from '../web/middleware.ts';
import { type PageData, renderPage } from '../web/render.ts';

const UPSTREAM_LOGOUT = 'yitong.upstream-logout';

type Logout = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

export function enginePages(upstreamLogouts: UpstreamLogouts) {
  /**
   * The person is told whose fault it is: a site's bad request, Yitong's own error, or an outage
   * of Yitong (503, try again shortly) — never the site's fault when it was ours.
   */
  const renderError: NonNullable<Configuration['renderError']> = (ctx, out, error) => {
    if (isOutage(error)) return outagePage(ctx);
    const ours = out.error === 'server_error';
    // A return address the site never registered (or no such site): OAuth forbids sending the
    // person there, so this page says what happened and where to go instead.
    const stranded = out.error === 'invalid_redirect_uri' || out.error === 'invalid_client';
    const site = String(ctx.oidc?.client?.metadata().client_name ?? '');
    page(ctx, 'message', {
      title: 'error.title',
      message: ours
        ? messageFor(ctx, 'server.error')
        : stranded
          ? messageFor(ctx, site ? 'oidc.unregistered_return' : 'oidc.unknown_site', { site })
          : messageFor(ctx, 'oidc.error', { error: out.error }),
      // For the site's developers, whom the person may be asked to tell.
      code: stranded ? out.error : undefined,
    });
  };

  /**
   * A session begun through an upstream: the page after signing out here offers to sign out
   * there too (remembered in a short cookie: by then the session is gone).
   */
  const logout: Pick<Logout, 'logoutSource' | 'postLogoutSuccessSource'> = {
    logoutSource: async (ctx, form) => {
      const { session } = ctx.oidc;
      if (session?.accountId && session.amr?.includes('fed'))
        ctx.cookies.set(UPSTREAM_LOGOUT, (await upstreamLogouts.linked(session.accountId)).join('.'), {
          httpOnly: true,
          sameSite: 'lax',
          maxAge: 10 * 60 * 1000,
        });
      page(ctx, 'logout', { title: 'logout.title', form });
    },
    postLogoutSuccessSource: async (ctx) => {
      const ids = (ctx.cookies.get(UPSTREAM_LOGOUT) ?? '').split('.').filter(Boolean);
      if (ids.length) ctx.cookies.set(UPSTREAM_LOGOUT, null);
      page(ctx, 'message', {
        title: 'logout.done.title',
        message: messageFor(ctx, 'logout.done.lead'),
        upstreamLogouts: await upstreamLogouts.offers(ids, localeOf(ctx)),
      });
    },
  };

  return { renderError, logout };
}

/** An outage of Yitong, not the site's fault: 503, try again shortly. */
export function outagePage(ctx: KoaContextWithOIDC): void {
  ctx.status = 503;
  ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
  page(ctx, 'message', {
    title: 'service.unavailable.title',
    message: messageFor(ctx, 'service.unavailable'),
  });
}

function page(ctx: KoaContextWithOIDC, view: string, data: PageData): void {
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = renderPage(view, data, { locale: localeOf(ctx) });
}

function messageFor(ctx: KoaContextWithOIDC, key: MessageKey, params?: Record<string, string>) {
  return translate(localeOf(ctx), key, params);
}
