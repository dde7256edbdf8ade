/**
 * What every interaction route needs: the pending interaction, the site it is for, and the way
 * back to the provider (a redirect for forms, a JSON `location` for our scripts).
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { AppError } from '../errors.ts';
import { str } from '../web/form.ts';
import { settleLocale } from '../web/middleware.ts';
import { siteInWords } from '../web/site-words.ts';

export type Form = Record<string, string>;

export function createInteractionKit(provider: Provider) {
  return {
    provider,
    /** The pending interaction; its pages then speak the language the site asked for. */
    async details(ctx: Context) {
      try {
        const interaction = await provider.interactionDetails(ctx.req, ctx.res);
        settleLocale(ctx, interaction.params.ui_locales);
        return interaction;
      } catch (error) {
        if (error instanceof errors.SessionNotFound) throw new AppError('interaction.expired', 400);
        throw error;
      }
    },

    /** The site as the page's reader names it. */
    async siteOf(ctx: Context, clientId: unknown) {
      const client = await provider.Client.find(str(clientId));
      const metadata: Record<string, unknown> = client?.metadata() ?? {};
      return siteInWords(ctx, clientId, {
        name: str(metadata.client_name) || str(clientId),
        department: str(metadata.department),
        purpose: str(metadata.purpose),
      });
    },

    /** The site's registered `default_acr_values` (the floor of what it asks). */
    async registeredAcrOf(clientId: unknown): Promise<readonly string[]> {
      return (await provider.Client.find(str(clientId)))?.defaultAcrValues ?? [];
    },

    /** Hands the result back to the provider, which continues the authorization request. */
    async finish(ctx: Context, result: InteractionResults) {
      ctx.status = 303;
      ctx.redirect(await this.resultUrl(ctx, result));
    },

    resultUrl: (ctx: Context, result: InteractionResults) =>
      provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
  };
}

export type InteractionKit = ReturnType<typeof createInteractionKit>;
