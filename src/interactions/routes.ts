/**
 * The pages oidc-provider sends a person to: sign in, register, consent. Each route reads the
 * interaction, validates the form, calls one service function and renders or returns to the
 * provider. Forms are bound to the interaction and also carry a CSRF token.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors, type InteractionResults } from 'oidc-provider';
import type { AccountsService } from '../accounts/service.ts';
import { SUPPORTED_SCOPES } from '../clients/manifest.ts';
import { ACR_PASSWORD } from '../oidc/provider.ts';
import { AppError, isAppError } from '../web/errors.ts';
import { type MessageKey, translate } from '../web/messages.ts';
import { requireCsrf, type WebState } from '../web/middleware.ts';
import { type PageData, render } from '../web/render.ts';

type Form = Record<string, unknown>;

/** The parsed urlencoded body (the body parser runs before these routes). */
const formOf = (ctx: Context): Form => (ctx.request as { body?: Form }).body ?? {};
const str = (value: unknown) => (typeof value === 'string' ? value : '');

export function interactionRoutes(provider: Provider, accounts: AccountsService): Router {
  const router = new Router();

  async function details(ctx: Context) {
    try {
      return await provider.interactionDetails(ctx.req, ctx.res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) throw new AppError('interaction.expired', 400);
      throw error;
    }
  }

  async function siteOf(clientId: unknown) {
    const client = await provider.Client.find(str(clientId));
    const metadata: Record<string, unknown> = client?.metadata() ?? {};
    return { name: str(metadata.client_name) || str(clientId), department: str(metadata.department) };
  }

  /** Hands the result back to the provider, which continues the authorization request. */
  async function finish(ctx: Context, result: InteractionResults) {
    ctx.status = 303;
    ctx.redirect(
      await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }),
    );
  }

  /** Renders a form again with what went wrong next to the field it concerns, or above the form. */
  function renderWithError(ctx: Context, view: string, data: PageData, error: AppError) {
    ctx.status = error.status;
    const text = tr(ctx, error.code, error.params);
    render(ctx, view, {
      ...data,
      error: error.field ? undefined : text,
      errors: error.field ? { [error.field]: text } : {},
    });
  }

  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await details(ctx);
    const site = await siteOf(interaction.params.client_id);
    if (interaction.prompt.name === 'login') {
      return render(ctx, 'login', { title: 'login.title', uid: interaction.uid, client: site, idNumber: '' });
    }
    const person = await accounts.findPerson(str(interaction.session?.accountId));
    if (!person) throw new AppError('interaction.expired', 400);
    // Only scopes we describe: a site cannot put words of its own on the consent page.
    const scopes = str(interaction.params.scope)
      .split(' ')
      .filter((scope) => scope !== 'openid' && (SUPPORTED_SCOPES as readonly string[]).includes(scope));
    render(ctx, 'consent', {
      title: 'consent.title',
      uid: interaction.uid,
      client: site,
      scopes: ['openid', ...scopes],
      person: { name: person.name, masked: person.idNumberMasked },
    });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await details(ctx);
    if (interaction.prompt.name !== 'login') throw new AppError('interaction.expired', 400);
    try {
      const person = await accounts.authenticate(str(form.id_number), str(form.password), ctx.ip);
      await finish(ctx, { login: { accountId: person.id, acr: ACR_PASSWORD, amr: ['pwd'], remember: true } });
    } catch (error) {
      if (!isAppError(error)) throw error;
      const site = await siteOf(interaction.params.client_id);
      renderWithError(
        ctx,
        'login',
        { title: 'login.title', uid: interaction.uid, client: site, idNumber: str(form.id_number) },
        error,
      );
    }
  });

  router.post('/interaction/:uid/consent', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const interaction = await details(ctx);
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
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await accounts.saveConsent(accountId, clientId, (grant.getOIDCScope() ?? '').split(' ').filter(Boolean));
    await finish(ctx, { consent: { grantId } });
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await details(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'the person declined' });
  });

  router.get('/interaction/:uid/register', async (ctx) => {
    const interaction = await details(ctx);
    renderRegister(ctx, `/interaction/${interaction.uid}/register`, `/interaction/${interaction.uid}`);
  });

  router.post('/interaction/:uid/register', async (ctx) => {
    const interaction = await details(ctx);
    const accountId = await register(
      ctx,
      `/interaction/${interaction.uid}/register`,
      `/interaction/${interaction.uid}`,
    );
    // Registering proves knowledge of the password just chosen: the person is signed in.
    if (accountId)
      await finish(ctx, { login: { accountId, acr: ACR_PASSWORD, amr: ['pwd'], remember: true } });
  });

  router.get('/register', (ctx) => renderRegister(ctx, '/register'));

  router.post('/register', async (ctx) => {
    if (await register(ctx, '/register')) {
      render(ctx, 'message', { title: 'register.done.title', message: tr(ctx, 'register.done.lead') });
    }
  });

  function renderRegister(
    ctx: Context,
    action: string,
    loginHref?: string,
    form: Form = {},
    error?: AppError,
  ) {
    const data = {
      title: 'register.title' as const,
      action,
      loginHref,
      form: { ...form, password: '', password_confirm: '' },
    };
    if (error) return renderWithError(ctx, 'register', data, error);
    render(ctx, 'register', { ...data, errors: {} });
  }

  /** The new account's id, or undefined after re-rendering the form with what to fix. */
  async function register(ctx: Context, action: string, loginHref?: string): Promise<string | undefined> {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      return await accounts.register(
        {
          idNumber: str(form.id_number),
          name: str(form.name),
          phone: str(form.phone),
          password: str(form.password),
          passwordConfirm: str(form.password_confirm),
        },
        ctx.ip,
      );
    } catch (error) {
      if (!isAppError(error)) throw error;
      renderRegister(ctx, action, loginHref, form, error);
      return undefined;
    }
  }

  return router;
}

function tr(ctx: Context, key: MessageKey, params?: Record<string, string | number>): string {
  return translate((ctx.state as WebState).locale, key, params);
}
