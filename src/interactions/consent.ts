/**
 * The consent page: the scopes a site asks for in plain words, and each verified item (an
 * attribute or certificate) with the department it comes from and when it was verified, or that
 * none is on record. Items the site marked essential must be given or the whole request declined;
 * the rest can be left unticked. A sensitive item comes with the service item and purpose the site
 * stated (its manifest lists the service items). What the person ticks becomes the grant: the
 * item's scope granted, or rejected so that the site does not ask again in this grant.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { SUPPORTED_SCOPES } from '../clients/manifest.ts';
import { AppError } from '../errors.ts';
import { purposeIn, SERVICE_ITEM_TYPE, type ServiceItem } from '../oidc/purpose.ts';
import {
  IDENTITY_ITEM,
  isObject,
  itemOf,
  requestedItems,
  scopeOf,
  verifiedClaimsAsked,
} from '../oidc/verified-claims.ts';
import { formOf, str } from '../web/form.ts';
import { localeOf, requireCsrf } from '../web/middleware.ts';
import { render } from '../web/render.ts';
import type { InteractionKit } from './kit.ts';
import type { InteractionDeps } from './routes.ts';

type Interaction = Awaited<ReturnType<InteractionKit['details']>>;

/** Items a `claims` request marks `essential`: the person gives them or declines the request. */
const essentialItems = (claims: unknown) =>
  new Set(
    verifiedClaimsAsked(claims).flatMap((asked) =>
      Object.entries(asked).flatMap(([claim, rule]) =>
        isObject(rule) && rule.essential === true ? [claim] : [],
      ),
    ),
  );

/** The verified items this request asks for that the site may have, with what is on record of each. */
async function itemsOf(
  deps: InteractionDeps,
  provider: Provider,
  interaction: Interaction,
  accountId: string,
) {
  const clientId = str(interaction.params.client_id);
  const client = await provider.Client.find(clientId);
  const allowed = new Set(String(client?.scope ?? '').split(' '));
  const codes = [...requestedItems(interaction.params, deps.catalogue)].filter(
    (item) => item !== IDENTITY_ITEM && allowed.has(scopeOf(item)),
  );
  if (!codes.length) return { codes, client };
  const entity = codes.some((code) => deps.catalogue.get(code)?.holder === 'entity')
    ? await deps.legalPersons.currentAt(accountId, clientId)
    : undefined;
  const held = await deps.attributesRepo.heldBy([accountId, ...(entity ? [entity.id] : [])], codes);
  return { codes, client, held };
}

async function show(ctx: Context, kit: InteractionKit, deps: InteractionDeps, interaction: Interaction) {
  const person = await deps.accounts.findPerson(str(interaction.session?.accountId));
  if (!person) throw new AppError('interaction.expired', 400);
  const { provider } = kit;
  const locale = localeOf(ctx);
  // Only scopes we describe: a site cannot put words of its own on the consent page.
  const scopes = str(interaction.params.scope)
    .split(' ')
    .filter((scope) => scope !== 'openid' && (SUPPORTED_SCOPES as readonly string[]).includes(scope));
  const { codes, client, held = [] } = await itemsOf(deps, provider, interaction, person.id);
  const essential = essentialItems(interaction.params.claims);
  const items = await Promise.all(
    codes.map(async (code) => {
      const type = deps.catalogue.get(code);
      const row = held.find((h) => h.type_code === code);
      return {
        code,
        name: type?.name[locale] ?? code,
        sensitive: type?.sensitivity === 'sensitive',
        required: essential.has(code),
        source: row ? (await kit.siteOf(ctx, row.source_client_id)).department : '',
        verifiedOn: row?.verified_at.toISOString().slice(0, 10) ?? '',
      };
    }),
  );
  const stated = purposeIn(interaction.params.authorization_details);
  const serviceItems = (client?.metadata().service_items ?? []) as ServiceItem[];
  render(ctx, 'consent', {
    title: 'consent.title',
    uid: interaction.uid,
    client: await kit.siteOf(ctx, interaction.params.client_id),
    scopes: ['openid', ...scopes],
    items,
    purpose: stated && {
      item: serviceItems.find((item) => item.code === stated.service_item)?.name ?? stated.service_item,
      code: stated.service_item,
      text: stated.purpose,
    },
    person: { name: person.name, masked: person.idNumberMasked },
    // A number never proved is not released (oidc/accounts.ts): the page says so rather than promise it.
    phoneProved: Boolean(person.phone && person.phoneVerifiedAt),
  });
}

function router(kit: InteractionKit, deps: InteractionDeps) {
  const routes = new Router();
  const { provider } = kit;
  routes.post('/interaction/:uid/consent', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await kit.details(ctx);
    const accountId = interaction.session?.accountId;
    const clientId = str(interaction.params.client_id);
    if (interaction.prompt.name !== 'consent' || !accountId) throw new AppError('interaction.expired', 400);
    const grant = interaction.grantId
      ? ((await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId }))
      : new provider.Grant({ accountId, clientId });
    const missing = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
    };
    // The items ticked; an essential one is given with the request or not at all.
    const essential = essentialItems(interaction.params.claims);
    const { codes } = await itemsOf(deps, provider, interaction, accountId);
    for (const code of codes) {
      if (form[`item_${code}`] === 'on' || essential.has(code)) grant.addOIDCScope(scopeOf(code));
      else grant.rejectOIDCScope(scopeOf(code));
    }
    const others = (missing.missingOIDCScope ?? []).filter((scope) => !itemOf(scope));
    if (others.length) grant.addOIDCScope(others.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    // The purpose consented to now: tokens issued from this grant carry it (oidc/provider.ts).
    const purpose = purposeIn(interaction.params.authorization_details);
    grant.rar = purpose ? [{ type: SERVICE_ITEM_TYPE, ...purpose }] : undefined;
    const grantId = await grant.save();
    await deps.accounts.saveConsent(
      accountId,
      clientId,
      (grant.getOIDCScope() ?? '').split(' ').filter(Boolean),
      ctx.ip,
    );
    await kit.finish(ctx, { consent: { grantId } });
  });
  return routes;
}

export const consentRoutes = { show, router };
