/**
 * The pages oidc-provider sends a person to: sign in, register, consent. Each route reads the
 * interaction, validates the form, calls one service function and renders or returns to the
 * provider. Forms are bound to the interaction and also carry a CSRF token. Second factors and
 * passkeys are in strong-auth.ts, the identity-level page in identity.ts.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { IdentityLevels } from '../accounts/identity-levels.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { OneTimeCodes } from '../auth/one-time-codes.ts';
import type { PasskeyService } from '../auth/passkeys.ts';
import type { SignIn } from '../auth/sign-in.ts';
import { SUPPORTED_SCOPES } from '../clients/manifest.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { ENTITY_PROMPT, IDENTITY_PROMPT } from '../oidc/policy.ts';
import { AppError, isAppError } from '../web/errors.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render } from '../web/render.ts';
import { entityRoutes } from './entity.ts';
import { identityRoutes } from './identity.ts';
import { createInteractionKit, type Form, formOf, renderWithError, str, tr } from './kit.ts';
import { strongAuthRoutes } from './strong-auth.ts';

export interface InteractionDeps {
  accounts: AccountsService;
  signIn: SignIn;
  passkeys: PasskeyService;
  codes: OneTimeCodes;
  levels: IdentityLevels;
  legalPersons: LegalPersonsService;
}

export function interactionRoutes(provider: Provider, deps: InteractionDeps): Router {
  const { accounts, signIn } = deps;
  const kit = createInteractionKit(provider);
  const strongAuth = strongAuthRoutes(kit, deps);
  const router = new Router();

  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await kit.details(ctx);
    const site = await kit.siteOf(interaction.params.client_id);
    if (interaction.prompt.name === 'login') {
      if (await strongAuth.showSecondFactor(ctx, interaction)) return;
      return render(ctx, 'login', { title: 'login.title', uid: interaction.uid, client: site, idNumber: '' });
    }
    if (interaction.prompt.name === IDENTITY_PROMPT) return identityRoutes.show(ctx, kit, deps, interaction);
    if (interaction.prompt.name === ENTITY_PROMPT) return entityRoutes.show(ctx, kit, deps, interaction);
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
      // A number never proved is not released (oidc/accounts.ts): the page says so rather than promise it.
      phoneProved: Boolean(person.phone && person.phoneVerifiedAt),
    });
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') throw new AppError('interaction.expired', 400);
    try {
      const person = await accounts.authenticate(str(form.id_number), str(form.password), ctx.ip);
      await strongAuth.continueSignIn(ctx, interaction, { accountId: person.id, methods: ['pwd'] });
    } catch (error) {
      if (!isAppError(error)) throw error;
      const site = await kit.siteOf(interaction.params.client_id);
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
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await accounts.saveConsent(
      accountId,
      clientId,
      (grant.getOIDCScope() ?? '').split(' ').filter(Boolean),
      ctx.ip,
    );
    await kit.finish(ctx, { consent: { grantId } });
  });

  router.post('/interaction/:uid/abort', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const interaction = await kit.details(ctx);
    await signIn.clearPending(interaction.uid);
    await kit.finish(ctx, { error: 'access_denied', error_description: 'the person declined' });
  });

  router.get('/interaction/:uid/register', async (ctx) => {
    const interaction = await kit.details(ctx);
    renderRegister(ctx, `/interaction/${interaction.uid}/register`, `/interaction/${interaction.uid}`);
  });

  router.post('/interaction/:uid/register', async (ctx) => {
    const interaction = await kit.details(ctx);
    const accountId = await register(
      ctx,
      `/interaction/${interaction.uid}/register`,
      `/interaction/${interaction.uid}`,
    );
    // Registering proves knowledge of the password just chosen: the person is signed in with it.
    if (accountId) await strongAuth.continueSignIn(ctx, interaction, { accountId, methods: ['pwd'] });
  });

  router.get('/register', (ctx) => renderRegister(ctx, '/register'));

  router.post('/register', async (ctx) => {
    if (await register(ctx, '/register')) {
      render(ctx, 'message', { title: 'register.done.title', message: tr(ctx, 'register.done.lead') });
    }
  });

  router.use(strongAuth.router.routes());
  router.use(identityRoutes.router(kit, deps).routes());
  router.use(entityRoutes.router(kit, deps).routes());

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
