/**
 * Where the person is signed in (`/account/sessions`): each session with its device, place,
 * start, last activity and the sites it covers; "end this one" (that browser is signed out and
 * the sites it covers get a back-channel logout) and "sign out everywhere".
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { Sites } from '../oidc/sites.ts';
import type { Place } from '../sessions/devices.ts';
import type { SessionsService } from '../sessions/service.ts';
import { confirmFirst } from '../web/confirm.ts';
import { formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, tr } from '../web/render.ts';
import { siteNameInWords } from '../web/site-words.ts';
import type { PortalState } from './session.ts';

export interface SessionsDeps {
  sites: Pick<Sites, 'openSessions' | 'endSession' | 'signOutEverywhere'>;
  sessions: Pick<SessionsService, 'recentSignIns'>;
  siteName(clientId: string): Promise<string>;
}

const METHODS = { pwd: 'method.pwd', otp: 'method.otp', passkey: 'method.passkey' } as const;

export function sessionRoutes(deps: SessionsDeps): Router {
  const router = new Router();
  const me = (ctx: Context) => ctx.state as PortalState;
  const siteName = async (ctx: Context, clientId: string) =>
    siteNameInWords(ctx, clientId, await deps.siteName(clientId));

  router.get('/account/sessions', async (ctx) => {
    const { person, session } = me(ctx);
    const [open, recent] = await Promise.all([
      deps.sites.openSessions(person),
      deps.sessions.recentSignIns(person.id),
    ]);
    const placeOf = (row: Place) =>
      [
        row.area === 'local' ? tr(ctx, 'sessions.local') : (row.area ?? tr(ctx, 'sessions.area_unknown')),
        row.network,
      ].join(' · ');
    render(ctx, 'sessions', {
      title: 'sessions.title',
      notice: ctx.query.done === 'ended' ? tr(ctx, 'sessions.done') : undefined,
      sessions: await Promise.all(
        open.map(async (row) => ({
          ...row,
          device: row.device || tr(ctx, 'sessions.unknown_device'),
          place: placeOf(row),
          sites: await Promise.all(row.clientIds.map((id) => siteName(ctx, id))),
          current: row.uid === session.uid,
        })),
      ),
      recent: await Promise.all(
        recent.map(async (row) => ({
          at: row.at,
          what: row.ok
            ? tr(ctx, 'sessions.activity.ok', { site: row.clientId ? await siteName(ctx, row.clientId) : '' })
            : tr(ctx, 'sessions.activity.failed', {
                method: tr(ctx, pick(METHODS, row.method) ?? 'method.pwd'),
              }),
          failed: !row.ok,
          place: placeOf(row),
        })),
      ),
    });
  });

  router.post('/account/sessions/:uid/end', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const uid = str(ctx.params.uid);
    if (!/^[\w-]{1,64}$/.test(uid)) throw new AppError('session.not_yours', 403);
    await deps.sites.endSession(me(ctx).person.id, uid, ctx.ip);
    if (uid !== me(ctx).session.uid) {
      ctx.status = 303;
      return ctx.redirect('/account/sessions?done=ended');
    }
    render(ctx, 'message', {
      title: 'sessions.ended_here.title',
      message: tr(ctx, 'sessions.ended_here.lead'),
    });
  });

  router.post('/account/sign-out-everywhere', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const lead = tr(ctx, 'confirm.signout');
    if (!confirmFirst(ctx, form, { title: 'confirm.signout.title', lead, back: '/account/sessions' })) return;
    await deps.sites.signOutEverywhere(me(ctx).person.id, ctx.ip);
    render(ctx, 'message', { title: 'sessions.ended.title', message: tr(ctx, 'sessions.ended.lead') });
  });

  return router;
}
