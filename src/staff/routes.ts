/**
 * The counter-staff page (`/staff`): with the person and their identity card in front of them,
 * staff look the person up by number and confirm them face to face (identity level 3). Only
 * staff, signed in with at least two factors, reach it; every look-up and confirmation is audited
 * with the member of staff, the hall and the time.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { IdentityLevels } from '../accounts/identity-levels.ts';
import type { PasswordReset } from '../accounts/password-reset.ts';
import type { Person, Staff } from '../accounts/repo.ts';
import { ACR } from '../auth/strength.ts';
import { qrDataUrl } from '../auth/totp.ts';
import { AppError, isAppError } from '../errors.ts';
import type { PortalSession, PortalState } from '../portal/session.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';

type StaffState = PortalState & { staff: Staff };

export function staffRoutes(deps: {
  portal: PortalSession;
  levels: IdentityLevels;
  passwordReset: Pick<PasswordReset, 'startAtCounter'>;
}): Router {
  const { levels } = deps;
  const router = new Router();
  const state = (ctx: Context) => ctx.state as StaffState;

  async function staffOnly(ctx: Context, next: Next) {
    const staff = await levels.staffOf(state(ctx).person.id);
    if (!staff) throw new AppError('staff.forbidden', 403);
    state(ctx).staff = staff;
    await next();
  }

  // Staff first (everyone else: 403), then at least two factors (staff without them: a step-up).
  router.use('/staff', deps.portal.signedIn, staffOnly, deps.portal.requireAcr(ACR.mfa));

  const page = (ctx: Context, data: Record<string, unknown> = {}) => ({
    title: 'staff.title' as const,
    hall: state(ctx).staff.hall,
    idNumber: '',
    errors: {},
    ...data,
  });

  router.get('/staff', (ctx) => render(ctx, 'staff', page(ctx)));

  /**
   * Confirm or reset without the tick: the person the form showed, shown again with the tick
   * asked for next to it (the look-up is not used up), not a dead-end error page.
   */
  async function tickFirst(ctx: Context, shownPersonId: string) {
    const person = await levels.atDesk(state(ctx).staff, state(ctx).session.uid, shownPersonId);
    const error = new AppError('staff.card_unchecked', 400, { field: 'card_checked' });
    renderWithError(ctx, 'staff', page(ctx, { found: foundView(person) }), error);
  }

  router.post('/staff/lookup', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      const person = await levels.lookUp(
        state(ctx).staff,
        str(form.id_number),
        state(ctx).session.uid,
        ctx.ip,
      );
      render(ctx, 'staff', page(ctx, { found: foundView(person) }));
    } catch (error) {
      if (!isAppError(error)) throw error;
      renderWithError(ctx, 'staff', page(ctx, { idNumber: str(form.id_number) }), error);
    }
  });

  router.post('/staff/confirm', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    if (form.card_checked !== 'yes') return tickFirst(ctx, str(form.person));
    await levels.confirmInPerson(state(ctx).staff, state(ctx).session.uid, str(form.person), ctx.ip);
    render(ctx, 'staff', page(ctx, { notice: tr(ctx, 'staff.confirmed') }));
  });

  // A forgotten password, at the counter: the link is shown as a QR code for the person's own phone.
  router.post('/staff/reset', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    if (form.card_checked !== 'yes') return tickFirst(ctx, str(form.person));
    const { staff, session } = state(ctx);
    // One link per look-up: another needs another look-up (and another audit row).
    const person = await levels.forPasswordReset(staff, session.uid, str(form.person));
    const link = await deps.passwordReset.startAtCounter(person, {
      actor: staff.personId,
      ip: ctx.ip,
      hall: staff.hall,
    });
    render(ctx, 'staff', page(ctx, { reset: { name: person.name, link, qr: await qrDataUrl(link) } }));
  });

  return router;
}

/** The person at the desk as the page shows them: never the full number. */
const foundView = (person: Person) => ({
  id: person.id,
  name: person.name,
  masked: person.idNumberMasked,
  gender: person.gender,
  birthdate: person.birthdate,
  level: person.identityLevel,
});
