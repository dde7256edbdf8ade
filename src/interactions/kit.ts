/**
 * What every interaction route needs: the pending interaction, the site it is for, and the way
 * back to the provider (a redirect for forms, a JSON `location` for our scripts).
 */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import { AppError } from '../web/errors.ts';
import { type MessageKey, translate } from '../web/messages.ts';
import type { WebState } from '../web/middleware.ts';
import { type PageData, render } from '../web/render.ts';

export type Form = Record<string, unknown>;

/** The parsed body (the body parser runs before these routes). */
export const formOf = (ctx: Context): Form => (ctx.request as { body?: Form }).body ?? {};
export const str = (value: unknown) => (typeof value === 'string' ? value : '');

/** `table[key]` for a key from a request, never an inherited property (`constructor`, `__proto__`). */
export function pick<T extends object>(table: T, key: unknown): T[keyof T] | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as keyof T] : undefined;
}

export function tr(ctx: Context, key: MessageKey, params?: Record<string, string | number>): string {
  return translate((ctx.state as WebState).locale, key, params);
}

/** Renders a form again with what went wrong next to the field it concerns, or above the form. */
export function renderWithError(ctx: Context, view: string, data: PageData, error: AppError) {
  ctx.status = error.status;
  const text = tr(ctx, error.code, error.params);
  render(ctx, view, {
    ...data,
    error: error.field ? undefined : text,
    errors: error.field ? { [error.field]: text } : {},
  });
}

export function createInteractionKit(provider: Provider) {
  return {
    async details(ctx: Context) {
      try {
        return await provider.interactionDetails(ctx.req, ctx.res);
      } catch (error) {
        if (error instanceof errors.SessionNotFound) throw new AppError('interaction.expired', 400);
        throw error;
      }
    },

    async siteOf(clientId: unknown) {
      const client = await provider.Client.find(str(clientId));
      const metadata: Record<string, unknown> = client?.metadata() ?? {};
      return { name: str(metadata.client_name) || str(clientId), department: str(metadata.department) };
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
