/**
 * The account itself: changing the mobile number (a code sent to the new number proves it) and
 * deleting the account (a waiting period, then deletion; what is kept and why is said first).
 * Both need a recent sign-in, made with the second factor when the person has one.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { type Deletion, RETENTION_YEARS, WAITING_DAYS } from '../accounts/deletion.ts';
import type { PhoneChange } from '../accounts/phone.ts';
import { ACR } from '../auth/strength.ts';
import { AppError, isAppError } from '../errors.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError } from '../web/render.ts';
import type { PortalSession, PortalState } from './session.ts';

export interface SettingsDeps {
  phones: PhoneChange;
  deletion: Deletion;
  /** Throws 403 unless the session may make sensitive changes (recent, and strong enough). */
  mayChange(ctx: Context): Promise<void>;
  portal: Pick<PortalSession, 'startSignIn'>;
}

export function settingsRoutes(deps: SettingsDeps): Router {
  const router = new Router();
  const me = (ctx: Context) => ctx.state as PortalState;

  /** Pages with a sensitive form: a stale or weak session signs in again first, then comes back. */
  async function signedInFreshly(ctx: Context): Promise<boolean> {
    try {
      await deps.mayChange(ctx);
      return true;
    } catch (error) {
      if (!isAppError(error) || error.status !== 403) throw error;
      deps.portal.startSignIn(ctx, ctx.path, {
        fresh: true,
        ...(error.code === 'session.weak' && { acr: ACR.mfa }),
      });
      return false;
    }
  }

  /** The phone page: the code form while a code waits in this session, else the number form. */
  async function phonePage(
    ctx: Context,
    options: { error?: AppError; phone?: string; askNumber?: boolean; verify?: boolean } = {},
  ) {
    const { person, session } = me(ctx);
    // Proving the number the account already has is the same steps, with that number filled in.
    const verify = options.verify && person.phone && !person.phoneVerifiedAt;
    const data = {
      title: verify ? ('phone.verify.title' as const) : ('phone.title' as const),
      sentTo: options.askNumber || verify ? undefined : await deps.phones.pending(person, session.uid),
      phone: options.phone ?? (verify ? person.phone : ''),
      verifying: Boolean(verify),
    };
    if (options.error) return renderWithError(ctx, 'phone', data, options.error);
    render(ctx, 'phone', { ...data, errors: {} });
  }

  router.get('/account/phone', async (ctx) => {
    if (await signedInFreshly(ctx))
      await phonePage(ctx, { askNumber: ctx.query.again === '1', verify: ctx.query.verify === '1' });
  });

  router.post('/account/phone', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    await deps.mayChange(ctx);
    const { person, session } = me(ctx);
    try {
      await deps.phones.start(person, session.uid, str(form.phone));
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      return phonePage(ctx, { error, phone: str(form.phone), askNumber: true });
    }
    ctx.status = 303;
    ctx.redirect('/account/phone');
  });

  router.post('/account/phone/confirm', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    await deps.mayChange(ctx);
    const { person, session } = me(ctx);
    let changed: boolean;
    try {
      changed = await deps.phones.confirm(person, session.uid, str(form.code), ctx.ip);
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      return phonePage(ctx, { error });
    }
    ctx.status = 303;
    ctx.redirect(`/account?done=${changed ? 'phone-changed' : 'phone-proved'}`);
  });

  async function deletePage(ctx: Context, error?: AppError) {
    const { person } = me(ctx);
    const data = {
      title: 'delete.title' as const,
      due: person.deletionDueAt,
      days: WAITING_DAYS,
      years: RETENTION_YEARS,
    };
    if (error) return renderWithError(ctx, 'delete', data, error);
    render(ctx, 'delete', { ...data, errors: {} });
  }

  router.get('/account/delete', async (ctx) => {
    if (await signedInFreshly(ctx)) await deletePage(ctx);
  });

  router.post('/account/delete', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    await deps.mayChange(ctx);
    try {
      if (form.confirm !== 'yes') throw new AppError('delete.confirm_required', 400, { field: 'confirm' });
      await deps.deletion.request(me(ctx).person, ctx.ip);
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) throw error;
      return deletePage(ctx, error);
    }
    ctx.status = 303;
    ctx.redirect('/account/delete');
  });

  router.post('/account/delete/cancel', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await deps.deletion.cancel(me(ctx).person, ctx.ip);
    ctx.status = 303;
    ctx.redirect('/account?done=deletion-cancelled');
  });

  return router;
}
