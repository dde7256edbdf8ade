/** The page a password-reset link opens (`/reset/:token`): choose a new password, once. */
import Router from '@koa/router';
import type { PasswordReset } from '../accounts/password-reset.ts';
import { isAppError } from '../errors.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';

export function resetRoutes(reset: PasswordReset): Router {
  const router = new Router();
  const page = (token: string) => ({ title: 'reset.title' as const, action: `/reset/${token}` });

  router.get('/reset/:token', async (ctx) => {
    await reset.check(str(ctx.params.token));
    render(ctx, 'reset', { ...page(str(ctx.params.token)), errors: {} });
  });

  router.post('/reset/:token', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const token = str(ctx.params.token);
    try {
      await reset.complete(token, str(form.password), str(form.password_confirm), ctx.ip);
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      return renderWithError(ctx, 'reset', page(token), error);
    }
    render(ctx, 'message', { title: 'reset.done.title', message: tr(ctx, 'reset.done.lead') });
  });

  return router;
}
