/**
 * What Yitong does when the engine reports: an entity's use of a site is recorded (its page lists
 * the sites its people act for it at), and an engine error
 * that is a lost dependency is an outage (a 503, logged once), any other is logged; a refusal
 * whose reason a site's developer needs says it (a DPoP proof, a client assertion), and a pushed
 * request that carries a request_uri is named as RFC 9126 says.
 */

import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { dependencyOf, isOutage } from '../outage.ts';
import type { ProviderDeps } from './provider.ts';
import { BODY_TOO_LARGE } from './registration-requests.ts';

export function listenToEngine(
  provider: Provider,
  deps: Pick<ProviderDeps, 'legalPersons' | 'logger' | 'outages'>,
) {
  // Which sites an entity's people act for it at (its page lists them).
  provider.on('authorization.success', async (ctx) => {
    const { session, client, params } = ctx.oidc;
    if (
      !session?.accountId ||
      !client ||
      !String(params?.scope ?? '')
        .split(' ')
        .includes('legal_person')
    )
      return;
    const entity = await deps.legalPersons
      .currentAt(session.accountId, client.clientId)
      .catch(() => undefined);
    if (entity)
      await deps.legalPersons
        .recordUse(entity.id, client.clientId, session.accountId)
        .catch((error) => deps.logger.error({ err: error }, 'legal person use not recorded'));
  });
  provider.on('grant.error', explainRefusal);
  provider.on('userinfo.error', explainRefusal);
  provider.on('introspection.error', explainRefusal);
  provider.on('revocation.error', explainRefusal);
  provider.on('registration_create.error', explainRefusal);
  provider.on('registration_update.error', explainRefusal);
  provider.on('pushed_authorization_request.error', (ctx: KoaContextWithOIDC, error: EngineError) => {
    explainRefusal(ctx, error);
    // RFC 9126 (2.1): a pushed request must not carry request_uri; its error is invalid_request.
    if (error.error === 'request_uri_not_supported')
      ctx.body = {
        error: 'invalid_request',
        error_description: 'request_uri must not be pushed (RFC 9126, 2.1)',
      };
  });
  provider.on('server_error', (ctx, error) => {
    if (!isOutage(error)) return deps.logger.error({ err: error }, 'oidc server_error');
    // Logged once per outage; the answer becomes a 503 (outageAnswer, renderError).
    deps.outages.down(dependencyOf(error), error);
    ctx.state.outage = true;
  });
}

type EngineError = { error?: string; error_detail?: unknown };

/** Reasons the engine keeps to its log that a site's developer needs, as Yitong tells them. */
const TOLD: Record<string, string> = {
  'request entity too large': BODY_TOO_LARGE.error_description,
  'DPoP proof key thumbprint does not match dpop_jkt':
    'the DPoP proof is signed with another key than the one the authorization request bound (dpop_jkt)',
  'failed jkt verification':
    'this access token is bound to a DPoP key: send it as "Authorization: DPoP <token>" with a DPoP proof signed by that key',
};

/**
 * The engine refuses with a general description and keeps the reason to its log; where the reason
 * is what a site's developer needs to fix the request, the answer says it, as an attacker learns
 * nothing from it:
 * - A DPoP proof missing where the site must send one, or replayed, is `invalid_grant` at the
 *   token endpoint and `invalid_token` at UserInfo: RFC 9449 (5, 7.1) names it
 *   `invalid_dpop_proof`, and so it is, with the reason. A proof or token with another key than
 *   the one bound keeps its error, with the reason (TOLD).
 * - A client assertion refused is `invalid_client`, "client authentication failed": the reason
 *   is about the JWT the site made (its `aud`, its `exp`, a `jti` used before: RFC 7523, 3). Only
 *   for a site that authenticates so: whether another id names a site, and how it
 *   authenticates, stays untold, and so does a wrong secret.
 * - A pushed request object whose claims are refused ("Request Object claims are invalid"): which
 *   and why (`jwt expired`). At the authorization endpoint the engine has made its answer before
 *   it reports, so a request object sent there is told only what the engine says.
 * Called as the engine's answer is set.
 */
function explainRefusal(ctx: KoaContextWithOIDC, error: EngineError) {
  const reason = error.error_detail;
  if (typeof reason !== 'string' || typeof ctx.body !== 'object' || ctx.body === null) return;
  const body = ctx.body as { error: string; error_description?: string };
  if (reason.startsWith('DPoP proof JWT')) tell(ctx, 'invalid_dpop_proof', reason);
  else if (TOLD[reason]) tell(ctx, body.error, TOLD[reason]);
  else if (body.error === 'invalid_client' && ctx.oidc.client?.clientAuthMethod === 'private_key_jwt')
    tell(ctx, body.error, `client authentication failed: ${reason}`);
  else if (body.error === 'invalid_request_object' && !body.error_description?.includes(reason))
    tell(ctx, body.error, `${body.error_description}: ${reason}`);
}

/** The answer's error and description, and its `WWW-Authenticate` challenge's where it has one. */
function tell(ctx: KoaContextWithOIDC, error: string, description: string) {
  ctx.body = { ...(ctx.body as object), error, error_description: description };
  const challenge = ctx.response.get('WWW-Authenticate');
  if (challenge)
    ctx.set(
      'WWW-Authenticate',
      challenge.replace(
        /error="[^"]*", error_description="[^"]*"/,
        `error="${error}", error_description="${description.replaceAll('"', "'")}"`,
      ),
    );
}
