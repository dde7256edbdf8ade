/**
 * Signing in through an upstream: the sign-in page's button sends the person there (openid-client:
 * PKCE, state, nonce; the site's `max_age` and `prompt=login` passed on), the upstream sends them
 * back to `/federation/callback`, where its answer is checked (`iss`, `aud`, `nonce`, signature,
 * expiry: openid-client) and the person found or created by the linking rules (linking.ts). The
 * callback cannot read the interaction's cookie (its path is the interaction's), so it hands the
 * outcome to `/interaction/:uid/upstream-return`, which finishes the sign-in with `amr` `fed` and
 * the `acr` the manifest maps the upstream's to. A cancelled sign-in, an upstream's error and an
 * unreachable upstream each get a page saying so, with the way back to the sign-in page.
 */
import Router from '@koa/router';
import { errors, jwtVerify } from 'jose';
import type { Context } from 'koa';
import * as client from 'openid-client';
import type { AccountsService } from '../accounts/service.ts';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { ACR } from '../auth/strength.ts';
import { AppError, isAppError } from '../errors.ts';
import type { InteractionKit } from '../interactions/kit.ts';
import type { MessageKey } from '../messages/index.ts';
import { formOf, parseForm, str } from '../web/form.ts';
import { localeOf } from '../web/middleware.ts';
import { render, tr } from '../web/render.ts';
import type { Federation } from './linking.ts';
import type { Upstream } from './upstreams.ts';

export const CALLBACK_PATH = '/federation/callback';
const PENDING_SECONDS = 600;

interface Pending {
  uid: string;
  upstream: string;
  verifier: string;
  nonce: string;
}

interface Returned {
  kind: 'signed-in' | 'prove';
  personId: string;
  upstream: string;
  sub: string;
  acr: string;
}

export function federationRoutes(deps: {
  kit: InteractionKit;
  issuer: string;
  upstreams: ReadonlyMap<string, Upstream>;
  federation: Federation;
  ephemeral: EphemeralStore;
  accounts: Pick<AccountsService, 'recordSignIn'>;
  /** Ends the person's sessions begun through an upstream, and the sites' (back-channel logout). */
  endUpstreamSessions(personId: string, ip: string): Promise<void>;
}): Router {
  const { kit, upstreams } = deps;
  const router = new Router();

  /** A page saying what went wrong at the upstream, and the way back to the sign-in page. */
  function trouble(ctx: Context, status: number, key: MessageKey, upstream: Upstream, uid?: string) {
    ctx.status = status;
    render(ctx, 'message', {
      title: 'federation.title',
      message: tr(ctx, key, { upstream: upstream.name[localeOf(ctx)] }),
      back: uid ? `/interaction/${uid}` : undefined,
    });
  }

  router.get('/interaction/:uid/upstream/:id', async (ctx) => {
    const interaction = await kit.details(ctx);
    const upstream = upstreams.get(ctx.params.id ?? '');
    if (interaction.prompt.name !== 'login' || !upstream) throw new AppError('interaction.expired', 400);
    let config: client.Configuration;
    try {
      config = await upstream.configuration();
    } catch {
      return trouble(ctx, 503, 'federation.unreachable', upstream, interaction.uid);
    }
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const { params } = interaction;
    await deps.ephemeral.put(
      `federation:${state}`,
      { uid: interaction.uid, upstream: upstream.id, verifier, nonce } satisfies Pending,
      PENDING_SECONDS,
    );
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: `${deps.issuer}${CALLBACK_PATH}`,
      scope: upstream.scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      // What the site asked of the sign-in is asked of the upstream's too.
      ...(params.max_age !== undefined && { max_age: str(params.max_age) }),
      ...(str(params.prompt).split(' ').includes('login') && { prompt: 'login' }),
    });
    ctx.redirect(url.href);
  });

  router.get(CALLBACK_PATH, async (ctx) => {
    const state = str(ctx.query.state);
    const pending = state ? await deps.ephemeral.take<Pending>(`federation:${state}`) : undefined;
    const upstream = pending && upstreams.get(pending.upstream);
    if (!pending || !upstream) throw new AppError('interaction.expired', 400);
    if (ctx.query.error !== undefined) {
      const cancelled = ctx.query.error === 'access_denied';
      return trouble(
        ctx,
        cancelled ? 200 : 502,
        cancelled ? 'federation.cancelled' : 'federation.upstream_error',
        upstream,
        pending.uid,
      );
    }
    let asserted: Record<string, unknown>;
    let acr: string;
    let sub: string;
    try {
      const config = await upstream.configuration();
      const tokens = await client.authorizationCodeGrant(
        config,
        new URL(`${deps.issuer}${CALLBACK_PATH}?${ctx.querystring}`),
        {
          pkceCodeVerifier: pending.verifier,
          expectedState: state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        },
      );
      const claims = tokens.claims() as client.IDToken;
      sub = claims.sub;
      acr = upstream.acr_map[String(claims.acr)] ?? ACR.pwd;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
      asserted = { ...userinfo, ...claims };
    } catch (error) {
      const unreachable = unanswered(error);
      return trouble(
        ctx,
        unreachable ? 503 : 502,
        unreachable ? 'federation.unreachable' : 'federation.refused',
        upstream,
        pending.uid,
      );
    }
    try {
      const outcome = await deps.federation.resolve(
        upstream,
        {
          sub,
          idNumber: asserted[upstream.claims.id_number],
          name: asserted[upstream.claims.name],
          level: upstream.claims.identity_level ? asserted[upstream.claims.identity_level] : undefined,
        },
        ctx.ip,
      );
      await deps.ephemeral.put(
        `federation:return:${pending.uid}`,
        { ...outcome, upstream: upstream.id, sub, acr } satisfies Returned,
        PENDING_SECONDS,
      );
    } catch (error) {
      if (!isAppError(error)) throw error;
      return trouble(ctx, error.status, error.code, upstream, pending.uid);
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${pending.uid}/upstream-return`);
  });

  router.get('/interaction/:uid/upstream-return', async (ctx) => {
    const interaction = await kit.details(ctx);
    const returned = await deps.ephemeral.take<Returned>(`federation:return:${interaction.uid}`);
    if (!returned || interaction.prompt.name !== 'login') throw new AppError('interaction.expired', 400);
    const upstream = upstreams.get(returned.upstream) as Upstream;
    if (returned.kind === 'prove') {
      // Proved once with the password, and the link is made (interactions/routes.ts, the login).
      await deps.ephemeral.put(`federation:prove:${interaction.uid}`, returned, PENDING_SECONDS);
      ctx.status = 303;
      return ctx.redirect(`/interaction/${interaction.uid}?link=${encodeURIComponent(upstream.id)}`);
    }
    const login = { accountId: returned.personId, acr: returned.acr, amr: ['fed'], remember: true };
    await deps.accounts.recordSignIn(
      returned.personId,
      { acr: login.acr, amr: login.amr, client_id: str(interaction.params.client_id) },
      ctx.ip,
    );
    await kit.finish(ctx, { login });
  });

  /**
   * The upstream's back-channel logout (OIDC Back-Channel Logout 1.0), at the URI Yitong registers
   * there: a logout token signed by the upstream for Yitong ends the sessions its person began
   * through an upstream, and with them every departmental site's (their back-channel logouts).
   */
  router.post('/federation/backchannel-logout/:id', parseForm, async (ctx) => {
    const upstream = upstreams.get(ctx.params.id ?? '');
    const token = str(formOf(ctx).logout_token);
    if (!upstream || !token)
      throw new AppError('request.invalid', 400, { params: { detail: 'reason.logout_token' } });
    let sub: string;
    try {
      const { payload } = await jwtVerify(token, await upstream.keys(), {
        issuer: upstream.issuer,
        audience: upstream.client_id,
        maxTokenAge: '5m',
      });
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events || !(LOGOUT_EVENT in events) || 'nonce' in payload || typeof payload.sub !== 'string')
        throw new errors.JWTInvalid('not a logout token with a sub');
      sub = payload.sub;
    } catch (error) {
      // Keys the upstream could not give now: it may send the token again (its 400 means never).
      if (!(error instanceof errors.JOSEError) || !TOKEN_FAULTS.has(error.code))
        throw new AppError('service.unavailable', 503);
      throw new AppError('request.invalid', 400, { params: { detail: 'reason.logout_token' } });
    }
    const personId = await deps.federation.personOf(upstream.id, sub);
    if (personId) await deps.endUpstreamSessions(personId, ctx.ip);
    ctx.set('cache-control', 'no-store');
    ctx.status = 200;
    ctx.body = '';
  });

  return router;
}

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What makes a logout token itself bad (jose's codes), rather than its keys out of reach. */
const TOKEN_FAULTS = new Set([
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_EXPIRED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/**
 * The upstream did not answer (unreachable, too slow, cut off, a 5xx), rather than answering
 * something that fails the checks: the citizen is told to try again later, not that it refused.
 */
function unanswered(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (error instanceof TypeError || ['TimeoutError', 'AbortError'].includes(error.name)) return true;
  if (code === 'OAUTH_TIMEOUT' || (typeof status === 'number' && status >= 500)) return true;
  if (error.cause instanceof Response) return error.cause.status >= 500;
  return unanswered(error.cause, depth + 1);
}

/** After a password sign-in in this interaction: the link an upstream was waiting for, if any. */
export async function linkAfterProof(
  deps: { ephemeral: EphemeralStore; federation: Federation },
  uid: string,
  personId: string,
  ip: string,
) {
  const waiting = await deps.ephemeral.take<Returned>(`federation:prove:${uid}`);
  if (waiting?.personId === personId) await deps.federation.link(waiting.upstream, waiting.sub, personId, ip);
}
