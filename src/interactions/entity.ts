/**
 * Acting for an entity: a site asking for `legal_person` learns which enterprise or institution
 * the person acts for. They choose among the entities they are authorised for there (the others
 * are shown with the reason they cannot be chosen); the choice is remembered per site until the
 * site sends them back with `prompt=select_account` to switch.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render } from '../web/render.ts';
import type { InteractionKit } from './kit.ts';
import type { InteractionDeps } from './routes.ts';

type Interaction = Awaited<ReturnType<InteractionKit['details']>>;

const wantsLegalPerson = (interaction: Interaction) =>
  str(interaction.params.scope).split(' ').includes('legal_person');

async function show(ctx: Context, kit: InteractionKit, deps: InteractionDeps, interaction: Interaction) {
  const accountId = str(interaction.session?.accountId);
  // `prompt=select_account` from a site that does not ask for an entity: one person, nothing to choose.
  if (!wantsLegalPerson(interaction)) return kit.finish(ctx, { select_account: {} });
  const clientId = str(interaction.params.client_id);
  const [choices, current] = await Promise.all([
    deps.legalPersons.choicesAt(accountId, clientId),
    deps.legalPersons.currentAt(accountId, clientId),
  ]);
  render(ctx, 'choose-entity', {
    title: 'entity.title',
    uid: interaction.uid,
    client: await kit.siteOf(ctx, clientId),
    choices,
    current: current?.id,
  });
}

function router(kit: InteractionKit, deps: InteractionDeps) {
  const routes = new Router();
  routes.post('/interaction/:uid/entity', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await kit.details(ctx);
    const accountId = interaction.session?.accountId;
    if (interaction.prompt.name !== 'select_account' || !accountId)
      throw new AppError('interaction.expired', 400);
    const legalPersonId = str(form.legal_person_id);
    await deps.legalPersons.choose(accountId, str(interaction.params.client_id), legalPersonId);
    await kit.finish(ctx, { select_account: { legalPersonId } });
  });
  return routes;
}

export const entityRoutes = { show, router };
