/**
 * The account page (`/account`): who the person is to us, their identity level and how to raise
 * it, and their sign-in methods: passkeys (add, name, remove) and the authenticator app (add
 * with a QR code, recovery codes shown once, remove). Changes need a recent sign-in.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { IdentityLevels } from '../accounts/identity-levels.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { OneTimeCodes } from '../auth/one-time-codes.ts';
import type { PasskeyService } from '../auth/passkeys.ts';
import type { FactorsRepo } from '../auth/repo.ts';
import { ACR, satisfies } from '../auth/strength.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { AppError, isAppError } from '../errors.ts';
import { maskPhone } from '../identity/phone.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { bodyOf, formOf, pick, str } from '../web/form.ts';
import { requireCsrf } from '../web/middleware.ts';
import { render, renderWithError, tr } from '../web/render.ts';
import { entityRoutes } from './entities.ts';
import { type MyAttributesDeps, myAttributesRoutes } from './my-attributes.ts';
import { type MyDataDeps, myDataRoutes } from './my-data.ts';
import { type MyLinksDeps, myLinksRoutes } from './my-links.ts';
import { type PortalSession, type PortalState, requireRecentSignIn } from './session.ts';
import { type SessionsDeps, sessionRoutes } from './sessions.ts';
import { type SettingsDeps, settingsRoutes } from './settings.ts';

export interface PortalDeps
  extends Omit<MyDataDeps, 'sites'>,
    MyAttributesDeps,
    MyLinksDeps,
    Omit<SessionsDeps, 'sites'>,
    Omit<SettingsDeps, 'mayChange'> {
  sites: MyDataDeps['sites'] & SessionsDeps['sites'];
  clientsRepo: MyDataDeps['clientsRepo'] & Pick<ClientsRepo, 'listLegalPersonSites'>;
  accounts: Pick<AccountsService, 'changePassword'>;
  portal: PortalSession;
  passkeys: PasskeyService;
  codes: OneTimeCodes;
  levels: IdentityLevels;
  factors: Pick<FactorsRepo, 'factorSummary'>;
  legalPersons: LegalPersonsService;
  endSessionPath: string;
}

const me = (ctx: Context) => ctx.state as PortalState;

export function portalRoutes(deps: PortalDeps): Router {
  const { portal, passkeys, codes, levels } = deps;
  const router = new Router();

  /**
   * Changing sign-in methods needs a recent sign-in, and, once the person has a second factor,
   * one made with it: a stolen password alone must not swap the owner's factors for the thief's.
   */
  async function mayChangeFactors(ctx: Context) {
    const { session, person } = me(ctx);
    requireRecentSignIn(session);
    const summary = await deps.factors.factorSummary(person.id);
    if ((summary.totp || summary.passkeys > 0) && !satisfies(session.acr, ACR.mfa))
      throw new AppError('session.weak', 403);
  }

  router.get('/account/sign-in', (ctx) =>
    portal.startSignIn(ctx, str(ctx.query.return) || '/account', { fresh: ctx.query.fresh === '1' }),
  );
  router.get('/account/callback', (ctx) => portal.callback(ctx));

  router.use('/account', portal.signedIn);

  async function overview(ctx: Context, extra: { error?: AppError; form?: Record<string, unknown> } = {}) {
    const { person, session } = me(ctx);
    const [keys, summary, staff, consents, sessions, [release], entities] = await Promise.all([
      passkeys.list(person.id),
      deps.factors.factorSummary(person.id),
      levels.staffOf(person.id),
      deps.accountsRepo.listConsents(person.id),
      deps.sites.openSessions(person),
      deps.accountsRepo.listReleases(person.id, 1),
      deps.legalPersons.listForPerson(person.id),
    ]);
    const data = {
      title: 'account.title' as const,
      person: {
        name: person.name,
        masked: person.idNumberMasked,
        level: person.identityLevel,
        phone: person.phone && maskPhone(person.phone),
        phoneVerified: Boolean(person.phoneVerifiedAt),
        deletionDue: person.deletionDueAt,
      },
      passkeys: keys.map((key) => ({ ...key, createdAt: key.createdAt.toISOString().slice(0, 10) })),
      totp: summary.totp,
      recoveryCodes: summary.recoveryCodes,
      online: levels.onlineCheckAvailable && person.identityLevel < 2,
      name: str(extra.form?.name) || person.name,
      recent: Date.now() / 1000 - session.authTime <= 15 * 60,
      staff: Boolean(staff),
      glance: {
        sites: consents.length,
        sessions: sessions.length,
        release: release && {
          site: await deps.siteName(String(release.details.client_id ?? '')),
          at: release.at,
        },
        entities: entities.map((entity) => ({ name: entity.name, role: entity.role })),
      },
      notice: typeof ctx.query.done === 'string' ? noticeOf(ctx, ctx.query.done) : undefined,
      endSession: deps.endSessionPath,
    };
    if (extra.error) return renderWithError(ctx, 'account', data, extra.error);
    render(ctx, 'account', { ...data, errors: {} });
  }

  router.get('/account', (ctx) => overview(ctx));
  router.use(entityRoutes(deps).routes());
  router.use(myDataRoutes(deps).routes());
  router.use(myAttributesRoutes(deps).routes());
  router.use(myLinksRoutes(deps).routes());
  router.use(sessionRoutes(deps).routes());
  router.use(settingsRoutes({ ...deps, mayChange: mayChangeFactors }).routes());

  router.post('/account/password', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      await deps.accounts.changePassword(
        me(ctx).person,
        {
          current: str(form.current_password),
          password: str(form.password),
          confirm: str(form.password_confirm),
        },
        ctx.ip,
      );
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      return overview(ctx, { error });
    }
    render(ctx, 'message', { title: 'password.changed.title', message: tr(ctx, 'password.changed.lead') });
  });

  router.post('/account/identity', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    try {
      await levels.verifyOnline(me(ctx).person, str(form.name), ctx.ip);
    } catch (error) {
      if (!isAppError(error)) throw error;
      return overview(ctx, { error, form });
    }
    done(ctx, 'verified');
  });

  /** JSON for our script: registration options bound to this session. */
  router.post('/account/passkeys/options', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await mayChangeFactors(ctx);
    ctx.body = await passkeys.registrationOptions(me(ctx).session.uid, me(ctx).person);
  });

  router.post('/account/passkeys', async (ctx) => {
    const body = bodyOf(ctx);
    requireCsrf(ctx, body._csrf);
    const { session, person } = me(ctx);
    await mayChangeFactors(ctx);
    await passkeys.register(session.uid, person.id, { response: body.response, name: body.name }, ctx.ip);
    ctx.body = { location: '/account?done=passkey-added' };
  });

  router.post('/account/passkeys/:id/delete', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await mayChangeFactors(ctx);
    await passkeys.remove(me(ctx).person.id, ctx.params.id ?? '', ctx.ip);
    done(ctx, 'passkey-removed');
  });

  /** Already on (a bookmark, the back button): My page says so, rather than an error or a second app. */
  const totpOn = async (ctx: Context) => (await deps.factors.factorSummary(me(ctx).person.id)).totp;

  router.get('/account/totp', async (ctx) => {
    if (await totpOn(ctx)) return done(ctx, 'totp-on');
    await mayChangeFactors(ctx);
    await renderEnrolment(ctx);
  });

  router.post('/account/totp', async (ctx) => {
    const form = formOf(ctx);
    requireCsrf(ctx, form._csrf);
    const { session, person } = me(ctx);
    if (await totpOn(ctx)) return done(ctx, 'totp-on');
    await mayChangeFactors(ctx);
    try {
      const recoveryCodes = await codes.confirmEnrolment(session.uid, person.id, str(form.otp), ctx.ip);
      render(ctx, 'recovery-codes', { title: 'totp.codes.title', recoveryCodes });
    } catch (error) {
      if (!isAppError(error)) throw error;
      await renderEnrolment(ctx, error);
    }
  });

  router.post('/account/totp/delete', async (ctx) => {
    requireCsrf(ctx, formOf(ctx)._csrf);
    await mayChangeFactors(ctx);
    await codes.remove(me(ctx).person.id, ctx.ip);
    done(ctx, 'totp-removed');
  });

  async function renderEnrolment(ctx: Context, error?: AppError) {
    const { session, person } = me(ctx);
    const enrolment = await codes.startEnrolment(session.uid, person);
    const data = {
      title: 'totp.title' as const,
      ...enrolment,
      secretGroups: enrolment.secret.match(/.{1,4}/g)?.join(' '),
    };
    if (error) return renderWithError(ctx, 'totp', data, error);
    render(ctx, 'totp', { ...data, errors: {} });
  }

  return router;
}

const NOTICES = {
  verified: 'account.done.verified',
  'passkey-added': 'account.done.passkey_added',
  'passkey-removed': 'account.done.passkey_removed',
  'totp-removed': 'account.done.totp_removed',
  'totp-on': 'account.done.totp_on',
  'phone-changed': 'account.done.phone_changed',
  'phone-proved': 'account.done.phone_proved',
  'deletion-cancelled': 'account.done.deletion_cancelled',
} as const;

function noticeOf(ctx: Context, key: string): string | undefined {
  const message = pick(NOTICES, key);
  return message && tr(ctx, message);
}

/** Post/redirect/get: the account page again, saying what was done. */
function done(ctx: Context, what: keyof typeof NOTICES) {
  ctx.status = 303;
  ctx.redirect(`/account?done=${what}`);
}
