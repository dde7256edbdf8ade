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
import type { AttributesRepo } from '../attributes/repo.ts';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import type { OneTimeCodes } from '../auth/one-time-codes.ts';
import type { PasskeyService } from '../auth/passkeys.ts';
import type { SignIn } from '../auth/sign-in.ts';
import { AppError, isAppError } from '../errors.ts';
import type { Federation } from '../federation/linking.ts';
import type { Upstream } from '../federation/upstreams.ts';
import { parseIdNumber } from '../identity/id-number.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { ENTITY_PROMPT, IDENTITY_PROMPT } from '../oidc/policy.ts';
import type { Catalogue } from '../oidc/verified-claims.ts';
import { formOf, str } from '../web/form.ts';
import { localeOf, requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import { consentRoutes } from './consent.ts';
import { entityRoutes } from './entity.ts';
import { identityRoutes } from './identity.ts';
import { createInteractionKit, type Form } from './kit.ts';
import { strongAuthRoutes } from './strong-auth.ts';

export interface InteractionDeps {
  accounts: AccountsService;
  signIn: SignIn;
  passkeys: PasskeyService;
  codes: OneTimeCodes;
  levels: IdentityLevels;
  legalPersons: LegalPersonsService;
  catalogue: Catalogue;
  attributesRepo: Pick<AttributesRepo, 'heldBy'>;
  upstreams: ReadonlyMap<string, Upstream>;
  federation: Federation;
  ephemeral: EphemeralStore;
}

/**
 * This browser signed in to these accounts before (keyed tags, newest first): guesses made at an
 * account elsewhere do not hold it back (accounts/service.ts).
 */
const DEVICE_COOKIE = 'yitong.device';
const knownDevices = (ctx: Context) =>
  (ctx.cookies.get(DEVICE_COOKIE) ?? '').split('.').filter(Boolean).slice(0, 5);
function rememberDevice(ctx: Context, tag: string, known: string[]) {
  ctx.cookies.set(DEVICE_COOKIE, [tag, ...known.filter((other) => other !== tag)].slice(0, 5).join('.'), {
    httpOnly: true,
    sameSite: 'lax',
    maxAge: 180 * 86_400_000,
    overwrite: true,
  });
}

export function interactionRoutes(provider: Provider, deps: InteractionDeps): Router {
  const { accounts, signIn } = deps;
  const kit = createInteractionKit(provider);
  const strongAuth = strongAuthRoutes(kit, deps);
  const router = new Router();

  router.get('/interaction/:uid', async (ctx) => {
    const interaction = await kit.details(ctx);
    const site = await kit.siteOf(ctx, interaction.params.client_id);
    if (interaction.prompt.name === 'login') {
      if (await strongAuth.showSecondFactor(ctx, interaction)) return;
      const linking = deps.upstreams.get(str(ctx.query.link));
      // A site's login_hint fills in the number when it is a well-formed identity number (OpenID
      // Connect Core 3.1.2.1); anything else is ignored, and the page says nothing of an account.
      const hint = parseIdNumber(str(interaction.params.login_hint));
      return render(ctx, 'login', {
        ...loginPage(ctx, interaction.uid, site),
        ...(hint.ok && { idNumber: hint.value }),
        ...(linking && { notice: tr(ctx, 'federation.prove', { upstream: linking.name[localeOf(ctx)] }) }),
      });
    }
    if (interaction.prompt.name === IDENTITY_PROMPT) return identityRoutes.show(ctx, kit, deps, interaction);
    if (interaction.prompt.name === ENTITY_PROMPT) return entityRoutes.show(ctx, kit, deps, interaction);
    return consentRoutes.show(ctx, kit, deps, interaction);
  });

  router.post('/interaction/:uid/login', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') throw new AppError('interaction.expired', 400);
    try {
      const known = knownDevices(ctx);
      const person = await accounts.authenticate(str(form.id_number), str(form.password), ctx.ip, known);
      rememberDevice(ctx, accounts.deviceTag(person), known);
      await strongAuth.continueSignIn(ctx, interaction, { accountId: person.id, methods: ['pwd'] });
    } catch (error) {
      if (!isAppError(error)) throw error;
      const site = await kit.siteOf(ctx, interaction.params.client_id);
      renderWithError(
        ctx,
        'login',
        { ...loginPage(ctx, interaction.uid, site), idNumber: str(form.id_number) },
        error,
      );
    }
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

  // Whether or not the number had an account, the answer is the same: sign in with the password
  // just chosen. Signing the person in at once would tell who registered before.
  router.post('/interaction/:uid/register', async (ctx) => {
    const interaction = await kit.details(ctx);
    const loginHref = `/interaction/${interaction.uid}`;
    if (!(await register(ctx, `${loginHref}/register`, loginHref))) return;
    render(ctx, 'login', {
      title: 'login.title',
      uid: interaction.uid,
      client: await kit.siteOf(ctx, interaction.params.client_id),
      idNumber: formOf(ctx).id_number,
      notice: tr(ctx, 'register.done.lead'),
    });
  });

  // Outside a site's sign-in, signing in is My page's (`/account` starts it).
  router.get('/register', (ctx) => renderRegister(ctx, '/register', '/account'));

  router.post('/register', async (ctx) => {
    if (await register(ctx, '/register', '/account'))
      render(ctx, 'message', {
        title: 'register.done.title',
        message: tr(ctx, 'register.done.lead'),
        links: [
          { href: '/account', label: 'home.sign_in', button: true },
          { href: '/recover', label: 'login.forgot' },
        ],
      });
  });

  /** The sign-in page's data: the site, and a button for each upstream. */
  function loginPage(ctx: Context, uid: string, client: Awaited<ReturnType<typeof kit.siteOf>>) {
    const locale = localeOf(ctx);
    return {
      title: 'login.title' as const,
      uid,
      client,
      idNumber: '',
      upstreams: [...deps.upstreams.values()].map((u) => ({ id: u.id, label: u.label[locale] })),
    };
  }

  router.use(strongAuth.router.routes());
  router.use(identityRoutes.router(kit, deps).routes());
  router.use(entityRoutes.router(kit, deps).routes());
  router.use(consentRoutes.router(kit, deps).routes());

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

  /** True once the registration is done (created, or the owner told); false after showing what to fix. */
  async function register(ctx: Context, action: string, loginHref?: string): Promise<boolean> {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      await accounts.register(
        {
          idNumber: str(form.id_number),
          name: str(form.name),
          phone: str(form.phone),
          password: str(form.password),
          passwordConfirm: str(form.password_confirm),
        },
        ctx.ip,
      );
      return true;
    } catch (error) {
      if (!isAppError(error)) throw error;
      renderRegister(ctx, action, loginHref, form, error);
      return false;
    }
  }

  return router;
}
