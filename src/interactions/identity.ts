/**
 * A site requires a higher identity level than the person has: the page says so, offers the
 * online check (level 2) where it is configured, and says how to reach level 3 at a service
 * hall. The person is never sent on to the site below its minimum.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError, isAppError } from '../errors.ts';
import { IDENTITY_PROMPT } from '../oidc/policy.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError } from '../web/render.ts';
import type { Form, InteractionKit } from './kit.ts';
import type { InteractionDeps } from './routes.ts';

type Interaction = Awaited<ReturnType<InteractionKit['details']>>;

async function show(
  ctx: Context,
  kit: InteractionKit,
  deps: InteractionDeps,
  interaction: Interaction,
  form: Form = {},
  error?: AppError,
) {
  const person = await deps.accounts.findPerson(str(interaction.session?.accountId));
  if (!person) throw new AppError('interaction.expired', 400);
  const required = Number(
    (interaction.prompt.details as { min_identity_level?: number }).min_identity_level ?? 1,
  );
  const data = {
    title: 'level.title' as const,
    uid: interaction.uid,
    client: await kit.siteOf(ctx, interaction.params.client_id),
    level: person.identityLevel,
    required,
    online: deps.levels.onlineCheckAvailable && required <= 2 && person.identityLevel < 2,
    name: str(form.name) || person.name,
  };
  if (error) return renderWithError(ctx, 'identity-level', data, error);
  render(ctx, 'identity-level', { ...data, errors: {} });
}

function router(kit: InteractionKit, deps: InteractionDeps) {
  const routes = new Router();
  routes.post('/interaction/:uid/identity', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await kit.details(ctx);
    const person = await deps.accounts.findPerson(str(interaction.session?.accountId));
    if (interaction.prompt.name !== IDENTITY_PROMPT || !person)
      throw new AppError('interaction.expired', 400);
    try {
      await deps.levels.verifyOnline(person, str(form.name), ctx.ip);
    } catch (error) {
      if (!isAppError(error)) throw error;
      return show(ctx, kit, deps, interaction, form, error);
    }
    // The provider checks the level again; if it is still too low, this page comes back.
    await kit.finish(ctx, {});
  });
  return routes;
}

export const identityRoutes = { show, router };
