/**
 * What Yitong does when the engine reports: an entity's use of a site is recorded (its page lists
 * the sites its people act for it at), a self-registered site is audited, and an engine error
 * that is a lost dependency is an outage (a 503, logged once), any other is logged; a refused
 * DPoP proof is named as such, and so is a pushed request that carries a request_uri; a refused
 * client assertion says why.
 */

import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { dependencyOf, isOutage } from '../outage.ts';
import type { ProviderDeps } from './provider.ts';

export function listenToEngine(
  provider: Provider,
  deps: Pick<ProviderDeps, 'legalPersons' | 'accounts' | 'logger' | 'outages'>,
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
  provider.on('registration_create.success', (ctx, client) => {
    const metadata = client.metadata();
    void deps.accounts
      .recordClientRegistration(
        client.clientId,
        { department: metadata.department, region_code: metadata.region_code },
        ctx.ip,
      )
      .catch((error) => deps.logger.error({ err: error }, 'registration not audited'));
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: EngineError) => {
    nameDpopRefusal(ctx, error);
    explainAssertionRefusal(ctx, error);
  });
  provider.on('userinfo.error', nameDpopRefusal);
  provider.on('introspection.error', explainAssertionRefusal);
  provider.on('revocation.error', explainAssertionRefusal);
  provider.on('pushed_authorization_request.error', (ctx: KoaContextWithOIDC, error: EngineError) => {
    explainAssertionRefusal(ctx, error);
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

/**
 * A client assertion refused is the engine's `invalid_client`, "client authentication failed",
 * with the reason only in its log. The reason is about the JWT the site made (its `aud`, its
 * `exp`, a `jti` used before: RFC 7523, 3), and is what its developer needs to fix it, so it is
 * told. A wrong secret stays unexplained.
 */
function explainAssertionRefusal(ctx: KoaContextWithOIDC, error: EngineError) {
  const reason = error.error_detail;
  if (error.error !== 'invalid_client' || !ctx.oidc.params?.client_assertion || typeof reason !== 'string')
    return;
  if (typeof ctx.body === 'object' && ctx.body !== null)
    ctx.body = { ...ctx.body, error_description: `client authentication failed: ${reason}` };
}

/**
 * A DPoP proof missing where the site must send one, or replayed, is refused by the engine as
 * `invalid_grant` at the token endpoint and `invalid_token` at UserInfo, with the reason only in
 * its log. RFC 9449 (5, 7.1) names it `invalid_dpop_proof`: so it is, with the reason, and a site's
 * developer can tell it from an expired code or token. Called as the engine's answer is set.
 */
function nameDpopRefusal(ctx: KoaContextWithOIDC, error: EngineError) {
  const reason = error.error_detail;
  if (typeof reason !== 'string' || !reason.startsWith('DPoP proof JWT')) return;
  ctx.body = { error: 'invalid_dpop_proof', error_description: reason };
  const challenge = ctx.response.get('WWW-Authenticate');
  if (challenge)
    ctx.set(
      'WWW-Authenticate',
      challenge.replace(
        /error="[^"]*", error_description="[^"]*"/,
        `error="invalid_dpop_proof", error_description="${reason}"`,
      ),
    );
}
