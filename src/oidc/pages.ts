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
import { SET_ASIDE, type SetAside } from './id-token-hint.ts';

const UPSTREAM_LOGOUT = 'yitong.upstream-logout';

type Logout = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

export function enginePages(upstreamLogouts: UpstreamLogouts) {
  /**
   * The person is told whose fault it is: a site's bad request, Yitong's own error, or an outage
   * of Yitong (503, try again shortly) — never the site's fault when it was ours. A site's bad
   * request says whether it was a sign-in or a sign-out, and the engine's reason is there for the
   * site's developers, whom the person may be asked to tell.
   */
  const renderError: NonNullable<Configuration['renderError']> = (ctx, out, error) => {
    if (isOutage(error)) return outagePage(ctx);
    const ours = out.error === 'server_error';
    const signingOut = String(ctx.oidc?.route ?? '').startsWith('end_session');
    // A return address the site never registered (or no such site): OAuth forbids sending the
    // person there, so this page says what happened and where to go instead.
    const stranded = !signingOut && (out.error === 'invalid_redirect_uri' || out.error === 'invalid_client');
    const site = String(ctx.oidc?.client?.metadata().client_name ?? '');
    page(ctx, 'message', {
      title: 'error.title',
      message: ours
        ? messageFor(ctx, 'server.error')
        : signingOut
          ? messageFor(ctx, 'oidc.logout_error', { error: out.error })
          : stranded
            ? messageFor(ctx, site ? 'oidc.unregistered_return' : 'oidc.unknown_site', { site })
            : messageFor(ctx, 'oidc.error', { error: out.error }),
      code: stranded ? out.error : undefined,
      detail: ours ? undefined : developerDetail(out.error_description),
      // The site's sign-out failed; the person can still sign out of Yitong here.
      signOutNow:
        signingOut && ctx.oidc?.session?.accountId ? ctx.oidc.provider.pathFor('end_session') : undefined,
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
      const setAside = (ctx.state as Record<string, SetAside | undefined>)[SET_ASIDE];
      page(ctx, 'logout', {
        title: 'logout.title',
        form,
        setAside: setAside && { ...setAside, reason: developerDetail(setAside.reason) },
        offline: await offlineSites(ctx),
      });
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

/** The engine's reason, as one short line of text (never a stack or markup). */
function developerDetail(description: unknown): string | undefined {
  if (typeof description !== 'string' || !description) return undefined;
  const line = description.split('\n')[0]?.trim() ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line || undefined;
}

/**
 * The sites of this session holding offline access (a refresh token outliving the session, OpenID
 * Connect Core §11): signing out leaves their grants, and the page says so.
 */
async function offlineSites(ctx: KoaContextWithOIDC): Promise<string[]> {
  const authorizations = Object.entries(ctx.oidc.session?.authorizations ?? {});
  const ids = authorizations.filter(([, { persistsLogout }]) => persistsLogout).map(([id]) => id);
  const clients = await Promise.all(
    ids.map((id) => ctx.oidc.provider.Client.find(id).catch(() => undefined)),
  );
  return clients.flatMap((client) => {
    const name = client?.metadata().client_name;
    return typeof name === 'string' && name ? [name] : [];
  });
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
