/**
 * Self-service recovery of a forgotten password (`/recover`): identity number and proved mobile
 * number, the code sent to it, the account's second factor when it has one, a new password. The
 * attempt's id rides in a cookie scoped to `/recover`; each step reads where the attempt is and
 * sends the browser there, so a step cannot be skipped by typing its address.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { attemptOf, type Recovery, type Step } from '../accounts/recovery.ts';
import type { OneTimeCodes } from '../auth/one-time-codes.ts';
import type { PasskeyService } from '../auth/passkeys.ts';
import { AppError, isAppError } from '../errors.ts';
import { bodyOf, formOf, str } from '../web/form.ts';
import { requireCsrf, type WebState } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';

const COOKIE = 'yitong.recovery';
const PATHS: Record<Step, string> = {
  code: '/recover/code',
  factor: '/recover/factor',
  password: '/recover/password',
};

export function recoverRoutes(deps: { recovery: Recovery; codes: OneTimeCodes; passkeys: PasskeyService }) {
  const { recovery } = deps;
  const router = new Router();
  const flowOf = (ctx: Context) => attemptOf(ctx.cookies.get(COOKIE) ?? '', (ctx.state as WebState).csrf);
  const binding = (ctx: Context) => `recover:${flowOf(ctx)}`;

  /** Runs a step's page only when the attempt is at that step; elsewhere, sends the browser on. */
  async function atStep(ctx: Context, step: Step): Promise<boolean> {
    const current = await recovery.step(flowOf(ctx)).catch((error: unknown) => {
      if (isAppError(error) && error.code === 'recovery.expired') return undefined;
      throw error;
    });
    if (current === step) return true;
    ctx.redirect(current ? PATHS[current] : '/recover?expired=1');
    return false;
  }

  const startPage = (form: Record<string, string> = {}) => ({
    title: 'recover.title' as const,
    form: { id_number: form.id_number ?? '', phone: form.phone ?? '' },
  });

  router.get('/recover', (ctx) =>
    render(ctx, 'recover', {
      ...startPage(),
      errors: {},
      error: ctx.query.expired ? tr(ctx, 'recovery.expired') : undefined,
    }),
  );

  router.post('/recover', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      const { flow, phone } = await recovery.start(
        { idNumber: str(form.id_number), phone: str(form.phone) },
        ctx.ip,
        (ctx.state as WebState).csrf,
      );
      ctx.cookies.set(COOKIE, flow, { httpOnly: true, sameSite: 'lax', path: '/recover', maxAge: 600_000 });
      render(ctx, 'recover-code', { title: 'recover.code.title', phone, errors: {} });
    } catch (error) {
      if (!isAppError(error)) throw error;
      renderWithError(ctx, 'recover', startPage(form), error);
    }
  });

  router.get('/recover/code', async (ctx) => {
    if (await atStep(ctx, 'code')) render(ctx, 'recover-code', { title: 'recover.code.title', errors: {} });
  });

  router.post('/recover/code', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      ctx.status = 303;
      ctx.redirect(PATHS[await recovery.confirmCode(flowOf(ctx), str(form.code))]);
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      renderWithError(ctx, 'recover-code', { title: 'recover.code.title' }, error);
    }
  });

  const factorPage = async (ctx: Context, error?: AppError) => {
    const { factors } = await recovery.awaitingFactor(flowOf(ctx));
    const data = { title: 'recover.factor.title' as const, ...factors };
    if (error) return renderWithError(ctx, 'recover-factor', data, error);
    render(ctx, 'recover-factor', { ...data, errors: {} });
  };

  router.get('/recover/factor', async (ctx) => {
    if (await atStep(ctx, 'factor')) await factorPage(ctx);
  });

  router.post('/recover/otp', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const { person } = await recovery.awaitingFactor(flowOf(ctx));
    try {
      await deps.codes.verify(person.id, str(form.otp), ctx.ip);
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      return factorPage(ctx, error);
    }
    await recovery.factorShown(flowOf(ctx));
    ctx.status = 303;
    ctx.redirect(PATHS.password);
  });

  router.post('/recover/passkey/options', async (ctx) => {
    requireCsrf(ctx, str(bodyOf(ctx)._csrf));
    const { person } = await recovery.awaitingFactor(flowOf(ctx));
    ctx.body = await deps.passkeys.authenticationOptions(binding(ctx), person.id);
  });

  router.post('/recover/passkey', async (ctx) => {
    requireCsrf(ctx, str(bodyOf(ctx)._csrf));
    const { person } = await recovery.awaitingFactor(flowOf(ctx));
    const result = await deps.passkeys.authenticate(binding(ctx), bodyOf(ctx).response, ctx.ip);
    if (result.personId !== person.id) throw new AppError('passkey.unknown', 400);
    await recovery.factorShown(flowOf(ctx));
    ctx.body = { location: PATHS.password };
  });

  router.get('/recover/password', async (ctx) => {
    if (await atStep(ctx, 'password'))
      render(ctx, 'reset', { title: 'reset.title', action: PATHS.password, errors: {} });
  });

  router.post('/recover/password', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      await recovery.finish(flowOf(ctx), str(form.password), str(form.password_confirm), ctx.ip);
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      return renderWithError(ctx, 'reset', { title: 'reset.title', action: PATHS.password }, error);
    }
    ctx.cookies.set(COOKIE, null, { path: '/recover' });
    render(ctx, 'message', { title: 'reset.done.title', message: tr(ctx, 'recover.done') });
  });

  return router;
}
