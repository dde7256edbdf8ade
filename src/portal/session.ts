/**
 * Our own pages' sign-in: the account page is a site of the provider like any other (response
 * type `none`: the provider's session is all it needs, no tokens). `signedIn` loads the person
 * or sends them through the provider first, with the strength the page needs.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { type Person, signInEnded } from '../accounts/repo.ts';
import type { AccountsService } from '../accounts/service.ts';
import { type Acr, satisfies } from '../auth/strength.ts';
import { AppError } from '../errors.ts';
import { ACCOUNT_CALLBACK, ACCOUNT_CLIENT_ID } from '../oidc/grants.ts';
import type { SessionReader, SignedIn } from '../oidc/session.ts';
import type { SessionsService } from '../sessions/service.ts';

export interface PortalState {
  session: SignedIn;
  person: Person;
}

const STATE_COOKIE = 'yitong.portal';
/** Changing sign-in methods needs a sign-in this recent. */
export const RECENT_SECONDS = 15 * 60;
const RETURN_PATH = /^\/(account|staff|admin)(\/[\w/-]*)?$/;

export function createPortalSession(deps: {
  readSession: SessionReader;
  accounts: Pick<AccountsService, 'findPerson'>;
  sessions: Pick<SessionsService, 'seen'>;
  issuer: string;
  authorizationPath: string;
}) {
  /** Sends the browser through the provider's authorization endpoint, then back to `returnTo`. */
  function startSignIn(ctx: Context, returnTo: string, options: { acr?: Acr; fresh?: boolean } = {}) {
    const state = randomBytes(16).toString('base64url');
    ctx.cookies.set(STATE_COOKIE, `${state} ${RETURN_PATH.test(returnTo) ? returnTo : '/account'}`, {
      httpOnly: true,
      sameSite: 'lax',
      signed: true,
      overwrite: true,
      maxAge: 30 * 60_000,
    });
    const url = new URL(deps.authorizationPath, deps.issuer);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'none',
      redirect_uri: `${deps.issuer}${ACCOUNT_CALLBACK}`,
      scope: 'openid',
      state,
      ...(options.acr && { acr_values: options.acr }),
      ...(options.fresh && { prompt: 'login' }),
      ui_locales: (ctx.state as { locale?: string }).locale ?? 'zh-CN',
    }).toString();
    ctx.redirect(url.href);
  }

  /** Who is signed in on this browser, if anyone (a public page asks without sending anyone away). */
  async function current(ctx: Context): Promise<PortalState | undefined> {
    const session = await deps.readSession(ctx);
    const person = session && (await deps.accounts.findPerson(session.accountId));
    if (!session || person?.status !== 'active' || signInEnded(person, session)) return undefined;
    return { session, person };
  }

  function signInFirst(ctx: Context, acr?: Acr) {
    if (ctx.method !== 'GET') throw new AppError('session.required', 401);
    startSignIn(ctx, ctx.path, { acr });
  }

  return {
    startSignIn,

    /** The provider's answer: back to where the person was going, if the state is ours. */
    callback(ctx: Context) {
      const [state, returnTo = '/account'] = (ctx.cookies.get(STATE_COOKIE, { signed: true }) ?? '').split(
        ' ',
      );
      ctx.cookies.set(STATE_COOKIE, null, { overwrite: true });
      if (!state || ctx.query.state !== state) throw new AppError('interaction.expired', 400);
      if (ctx.query.error) return ctx.redirect('/');
      ctx.redirect(returnTo);
    },

    current,

    /** Middleware: the signed-in person in `ctx.state`, else a sign-in first. */
    async signedIn(ctx: Context, next: Next) {
      const found = await current(ctx);
      if (!found) return signInFirst(ctx);
      // "Last active" on the person's sessions page counts visits to their own pages too.
      await deps.sessions.seen(found.person.id, found.session, {
        ip: ctx.ip,
        userAgent: ctx.get('user-agent'),
      });
      Object.assign(ctx.state, found satisfies PortalState);
      await next();
    },

    /** Middleware after `signedIn`: a session that signed in at least this strongly, else a step-up first. */
    requireAcr(acr: Acr) {
      return async (ctx: Context, next: Next) => {
        if (!satisfies((ctx.state as PortalState).session.acr, acr)) return signInFirst(ctx, acr);
        await next();
      };
    },
  };
}

/** For changes to sign-in methods: the session must have signed in within RECENT_SECONDS. */
export function requireRecentSignIn(session: SignedIn) {
  if (Date.now() / 1000 - session.authTime > RECENT_SECONDS) throw new AppError('session.stale', 403);
}

export type PortalSession = ReturnType<typeof createPortalSession>;
