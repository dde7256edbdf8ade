/**
 * Second factors and passkeys inside an authorization request: passwordless sign-in with a
 * passkey, the one-time code or passkey after a password, and step-up when a site asks for more
 * (`acr_values`) than the session's sign-in achieved. The page asks only for what is missing,
 * and tells a person who has no such factor how to add one.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Progress } from '../auth/sign-in.ts';
import { loginResult, methodsOf } from '../auth/sign-in.ts';
import { ACR, requiredAcrFor, satisfies } from '../auth/strength.ts';
import { AppError, isAppError } from '../errors.ts';
import { linkAfterProof } from '../federation/routes.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/grants.ts';
import { STEP_UP } from '../oidc/policy.ts';
import { bodyOf, formOf, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError } from '../web/render.ts';
import type { InteractionKit } from './kit.ts';
import type { InteractionDeps } from './routes.ts';

type Interaction = Awaited<ReturnType<InteractionKit['details']>>;

export function strongAuthRoutes(kit: InteractionKit, deps: InteractionDeps) {
  const { signIn, passkeys, codes, accounts } = deps;
  const router = new Router();
  const requested = async (interaction: Interaction) =>
    requiredAcrFor(interaction.params, await kit.registeredAcrOf(interaction.params.client_id));

  /** The sign-in so far: a password checked in this interaction, or the session a site wants stepped up. */
  async function progressOf(interaction: Interaction): Promise<Progress | undefined> {
    const pending = await signIn.pending(interaction.uid);
    if (pending) return pending;
    const { session, prompt } = interaction;
    const stepUpOnly = prompt.reasons.length > 0 && prompt.reasons.every((reason) => reason === STEP_UP);
    if (session?.accountId && stepUpOnly)
      return { accountId: session.accountId, methods: methodsOf(session.amr as string[] | undefined) };
    return undefined;
  }

  async function renderSecondFactor(
    ctx: Context,
    interaction: Interaction,
    progress: Progress,
    error?: AppError,
  ) {
    const asked = await requested(interaction);
    const requirement = await signIn.requirement(progress, asked);
    const data = {
      title: 'stepup.title' as const,
      uid: interaction.uid,
      client: await kit.siteOf(ctx, interaction.params.client_id),
      // Who wants more than a password: the site, one of our own pages (/staff, /admin), or the person.
      askedBy: satisfies(ACR.pwd, asked)
        ? 'own'
        : interaction.params.client_id === ACCOUNT_CLIENT_ID
          ? 'page'
          : 'site',
      need: requirement.need === undefined ? undefined : requirement.need.split(':').pop(),
      totp: requirement.totp && requirement.need !== 'urn:yitong:acr:phr',
      passkeys: requirement.passkeys > 0,
    };
    if (error) return renderWithError(ctx, 'second-factor', data, error);
    render(ctx, 'second-factor', { ...data, errors: {} });
  }

  /** Finishes the sign-in when what is done suffices; otherwise keeps it pending and asks for the rest. */
  async function continueSignIn(ctx: Context, interaction: Interaction, progress: Progress) {
    const { need } = await signIn.requirement(progress, await requested(interaction));
    if (need) {
      await signIn.savePending(interaction.uid, progress);
      ctx.status = 303;
      return ctx.redirect(`/interaction/${interaction.uid}`);
    }
    await kit.finish(ctx, { login: await finished(ctx, interaction, progress) });
  }

  /** The login result for the provider, recorded in the audit trail. */
  async function finished(ctx: Context, interaction: Interaction, progress: Progress) {
    await Promise.all([
      signIn.clearPending(interaction.uid),
      // The account proved (password, with its second factor, or a passkey): the link an upstream waits for.
      linkAfterProof(deps, interaction.uid, progress.accountId, ctx.ip),
    ]);
    const login = loginResult(progress);
    await accounts.recordSignIn(
      progress.accountId,
      { acr: login.acr, amr: login.amr, client_id: str(interaction.params.client_id) },
      ctx.ip,
    );
    return login;
  }

  async function loginInteraction(ctx: Context) {
    requireCsrf(ctx, formOf(ctx)._csrf);
    const interaction = await kit.details(ctx);
    if (interaction.prompt.name !== 'login') throw new AppError('interaction.expired', 400);
    return interaction;
  }

  router.post('/interaction/:uid/otp', async (ctx) => {
    const interaction = await loginInteraction(ctx);
    const progress = await progressOf(interaction);
    if (!progress) throw new AppError('interaction.expired', 400);
    try {
      await codes.verify(progress.accountId, str(formOf(ctx).otp), ctx.ip);
    } catch (error) {
      if (!isAppError(error)) throw error;
      await accounts.recordFailedSignIn(ctx.ip, 'otp', error.code, progress.accountId);
      return renderSecondFactor(ctx, interaction, progress, error);
    }
    await continueSignIn(ctx, interaction, { ...progress, methods: [...progress.methods, 'otp'] });
  });

  /** Options for the browser: any passkey to sign in, or the person's own as a second factor. */
  router.post('/interaction/:uid/passkey/options', async (ctx) => {
    const interaction = await loginInteraction(ctx);
    const progress = await progressOf(interaction);
    ctx.body = await passkeys.authenticationOptions(interaction.uid, progress?.accountId);
  });

  router.post('/interaction/:uid/passkey', async (ctx) => {
    const interaction = await loginInteraction(ctx);
    const progress = await progressOf(interaction);
    const result = await passkeys
      .authenticate(interaction.uid, bodyOf(ctx).response, ctx.ip)
      .catch(async (error) => {
        if (isAppError(error) && error.code !== 'rate.ip')
          await accounts.recordFailedSignIn(ctx.ip, 'passkey', error.code, progress?.accountId);
        throw error;
      });
    if (progress && progress.accountId !== result.personId) throw new AppError('passkey.unknown', 400);
    const person = await accounts.findPerson(result.personId);
    if (person?.status !== 'active') throw new AppError('account.locked', 403);
    const methods = progress ? [...progress.methods, result.method] : [result.method];
    const login = await finished(ctx, interaction, { accountId: result.personId, methods });
    ctx.body = { location: await kit.resultUrl(ctx, { login }) };
  });

  return {
    router,
    continueSignIn,
    /** Renders the second-factor page when this login prompt is one; false for a plain sign-in. */
    async showSecondFactor(ctx: Context, interaction: Interaction): Promise<boolean> {
      const progress = await progressOf(interaction);
      if (!progress) return false;
      await renderSecondFactor(ctx, interaction, progress);
      return true;
    },
  };
}
