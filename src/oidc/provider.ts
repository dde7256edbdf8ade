/**
 * The one `new Provider`: Yitong's protocol profile (DESIGN.md) on oidc-provider.
 * Code flow with PKCE only, discovery, JWKS, userinfo, refresh rotation, revocation,
 * introspection, RP-initiated and back-channel logout, client credentials, PAR, DPoP.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';
import Provider, { type Adapter, type Configuration, errors } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/service.ts';
import type { AttributesRepo } from '../attributes/repo.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import { ACR } from '../auth/strength.ts';
import { SIGNING_ALGS, SUPPORTED_SCOPES } from '../clients/manifest.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { clientSecretMatches } from '../clients/service.ts';
import type { Config } from '../config.ts';
import type { UpstreamLogouts } from '../federation/logout.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import { LOCALES } from '../messages/index.ts';
import { logStreamErrors, type Outages } from '../outage.ts';
import { findTextProblem } from '../text.ts';
import { cookieSigner } from '../web/cookie-signer.ts';
import { closeUnreadBody } from '../web/middleware.ts';
import { createFindAccount, createTokenCheck, SCOPE_CLAIMS } from './accounts.ts';
import { refuseProofDatedAhead } from './dpop-window.ts';
import { leaveOutEndedSessionSid } from './ended-session-sid.ts';
import { listenToEngine } from './engine-events.ts';
import {
  assertClientAssertion,
  assertRequestObject,
  fapiFeature,
  forceFapi2Flags,
  rotateRefreshToken,
} from './fapi.ts';
import { accountClient, loadGrant } from './grants.ts';
import { acceptEveryOwnAlgorithm, setAsideUnverifiableLogoutHint } from './id-token-hint.ts';
import { INTERACTION_SECONDS, LIFETIMES } from './lifetimes.ts';
import { createOutboundFetch, createOutboundPolicy } from './outbound.ts';
import { enginePages } from './pages.ts';
import { createPolicy } from './policy.ts';
import { leaveOutUnpublished, outageAnswer, precomputed } from './provider-middleware.ts';
import { checkAuthorizationDetails, purposeIn, SERVICE_ITEM_TYPE } from './purpose.ts';
import { registrationFeature } from './registration.ts';
import { hideStoredSecret, holdBackRotation, settleRegistration } from './registration-requests.ts';
import { dropRefreshScopesNotAllowed, dropScopesNotAllowed } from './scope-narrowing.ts';
import { unrouted } from './unrouted.ts';
import { type Catalogue, TRUST_FRAMEWORK, verifiedRequestOf, verifiedScopes } from './verified-claims.ts';
import { createVerifiedRelease } from './verified-release.ts';

export interface ProviderDeps {
  config: Pick<
    Config,
    'issuer' | 'production' | 'secrets' | 'outboundAllowedNetworks' | 'proxyHops' | 'certificateLibraryUrl'
  >;
  signingKeys: JWK[];
  /** Department self-registration's rate limit (registration.ts). */
  registrationsPerDepartment: Limiter;
  /** Kids of signing keys kept out of the JWKS now (keys.ts): the engine still signs and verifies with them. */
  unpublished: () => readonly string[];
  artifacts: (model: string) => Adapter;
  /** Kept by the container across rebuilds of the provider (a rotated key): its cache with it. */
  clientAdapter: Adapter;
  clients: Pick<ClientsRepo, 'findEnabledClient' | 'upsertClient' | 'disable' | 'findRegistrationGrant'>;
  accounts: AccountsService;
  legalPersons: LegalPersonsService;
  /** The verified attribute types and their values (oidc/verified-claims.ts). */
  catalogue: Catalogue;
  attributes: Pick<AttributesRepo, 'heldBy'>;
  /** The upstreams a person signed in through may be signed out of too (container.ts). */
  upstreamLogouts: UpstreamLogouts;
  logger: Logger;
  outages: Pick<Outages, 'down'>;
}

/** Where a browser signs out (RP-initiated logout): our own pages link to it. */
export const END_SESSION_PATH = '/session/end';

export function createProvider(deps: ProviderDeps): Provider {
  const { config, accounts } = deps;
  const { clientAdapter } = deps;
  const stillSignedIn = createTokenCheck(accounts);
  const epochSeconds = () => Math.floor(Date.now() / 1000);
  const pairwiseKey = createSecretKey(config.secrets.hmacKey);
  const typeScopes = verifiedScopes(deps.catalogue);
  const codes = [...deps.catalogue.keys()];
  const pages = enginePages(deps.upstreamLogouts);
  const release = createVerifiedRelease({
    catalogue: deps.catalogue,
    attributes: deps.attributes,
    departmentOf: async (clientId) =>
      String((await provider.Client.find(clientId))?.metadata().department ?? ''),
    library: config.certificateLibraryUrl
      ? {
          url: config.certificateLibraryUrl,
          sign: signWith(deps.signingKeys.find((key) => key.kty === 'EC')),
        }
      : undefined,
  });
  const configuration: Configuration = {
    routes: { end_session: END_SESSION_PATH },

    adapter: ((model: string) =>
      model === 'Client'
        ? clientAdapter
        : model === 'RegistrationAccessToken'
          ? holdBackRotation(deps.artifacts(model))
          : deps.artifacts(model)) as unknown as Configuration['adapter'],
    jwks: {
      keys: deps.signingKeys as Configuration['jwks'] extends { keys: infer K } | undefined ? K : never,
    },
    cookies: {
      keys: cookieSigner(config.secrets.cookieKeys),
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    findAccount: createFindAccount(accounts, deps.legalPersons, release),
    claims: { ...SCOPE_CLAIMS, ...typeScopes },
    // The ID token of the code flow carries the `openid` claims only; the rest come from userinfo.
    conformIdTokenClaims: true,
    scopes: [...SUPPORTED_SCOPES, ...Object.keys(typeScopes)],
    // A sensitive type is asked for with a service item and purpose (RFC 9396 `authorization_details`
    // of our one type), or not at all. The engine's RAR feature is not used: it binds details to a
    // resource server's tokens, and these are about UserInfo; the consent page keeps the purpose in
    // the grant, and each access token carries the purpose it was issued for.
    extraParams: {
      authorization_details: (ctx, value, client) =>
        checkAuthorizationDetails(ctx, value, client.metadata().service_items, deps.catalogue),
    },
    extraTokenClaims: (ctx, token) => {
      const purpose = token.kind === 'AccessToken' ? purposeIn(ctx.oidc.grant?.rar) : undefined;
      return purpose ? { purpose } : undefined;
    },
    discovery: {
      // The languages of the pages a site may ask for (ui_locales).
      ui_locales_supported: [...LOCALES],
      // OpenID Connect for Identity Assurance 1.0: what Yitong's verified_claims can hold.
      verified_claims_supported: true,
      trust_frameworks_supported: [TRUST_FRAMEWORK],
      evidence_supported: ['document', 'electronic_record'],
      documents_supported: ['idcard'],
      documents_check_methods_supported: ['vpip'],
      electronic_records_supported: ['population_register', ...codes],
      claims_in_verified_claims_supported: ['name', 'birthdate', 'gender', ...codes],
      authorization_details_types_supported: [SERVICE_ITEM_TYPE],
    },
    acrValues: Object.values(ACR),
    responseTypes: ['code', 'none'],
    clients: [accountClient(config.issuer)],
    pkce: { required: () => true },
    // OpenID Connect Core 3.1.2.1: every authorization request names its redirect_uri.
    allowOmittingSingleRegisteredRedirectUri: false,
    // What the engine fetches from a site's address (its jwks_uri) is read up to this much, so a
    // site cannot have it swallow a gigabyte. Sites get no sector_identifier_uri (manifest.ts).
    fetchResponseBodyLimits: {
      'client_id metadata document': 5 * 1024,
      jwks_uri: 64 * 1024,
      sector_identifier_uri: 64 * 1024,
    },
    assertJwtClientAuthClaimsAndHeader: assertClientAssertion,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    // ES256 unless a site asks for RS256 or PS256 in its manifest (oidc/keys.ts keeps a key of each).
    // A feature that signs another answer for a site (jwtIntrospection, jwtResponseModes) adds its
    // field to SIGNED_RESPONSE_FIELDS (clients/manifest.ts), which keys.ts publishes the PS256 keys by.
    enabledJWA: {
      idTokenSigningAlgValues: [...SIGNING_ALGS],
      userinfoSigningAlgValues: [...SIGNING_ALGS],
      introspectionSigningAlgValues: [...SIGNING_ALGS],
      clientAuthSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'],
      // The engine's, and PS256, which FAPI 2.0 allows too (a site with RSA keys only).
      dPoPSigningAlgValues: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
    },
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) =>
      pairwiseSub(pairwiseKey, client.sectorIdentifier as string | undefined, accountId),
    extraClientMetadata: {
      properties: [
        'department',
        'region_code',
        'client_uri',
        'logo_uri',
        'category',
        'purpose',
        'publishes',
        'service_items',
        'min_identity_level',
        'federation_partner',
        'profile',
      ],
      validator(_ctx, key, value, metadata) {
        if (key === 'min_identity_level' && value !== undefined && ![1, 2, 3].includes(value as number))
          throw new errors.InvalidClientMetadata('min_identity_level must be 1, 2 or 3');
        forceFapi2Flags(key, value, metadata);
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      // UserInfo as a signed JWT for a site whose manifest asks (userinfo_signed_response_alg).
      jwtUserinfo: { enabled: true },
      // A department may look at and revoke only tokens issued to its own sites.
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      // …and a token whose sign-in has ended is not active, though the token itself was not revoked.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) =>
          token.clientId === client.clientId && (await stillSignedIn(token)),
      },
      clientCredentials: { enabled: true },
      // No resource servers besides Yitong itself: every token is for UserInfo and the admin API.
      // (With the feature on, the engine asks `authorization_details` for a resource indicator.)
      resourceIndicators: { enabled: false },
      // `verified_claims` in its object form (an array is refused with a reason: verified-claims.ts).
      claimsParameter: {
        enabled: true,
        assertClaimsParameter: (_ctx, claims) => {
          // Stored with the sign-in as JSON, which cannot hold a NUL or half a surrogate pair
          // (its text was checked as it came, but not what its escapes decode to).
          const problem = findTextProblem(claims, 32);
          if (problem) throw new errors.InvalidRequest(`the claims parameter: ${problem}`);
          verifiedRequestOf(claims.userinfo);
          verifiedRequestOf(claims.id_token);
        },
      },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true, requireNonce: refuseProofDatedAhead },
      // Signed request objects (JAR, RFC 9101), at the authorization endpoint and through PAR.
      requestObjects: { enabled: true, assertJwtClaimsAndHeader: assertRequestObject },
      // The FAPI 2.0 Security Profile for the sites whose manifest says "profile": "fapi2" (fapi.ts).
      fapi: fapiFeature,
      ...registrationFeature({
        clients: deps.clients,
        production: config.production,
        writesPerDepartment: deps.registrationsPerDepartment,
      }),
      rpInitiatedLogout: { enabled: true, ...pages.logout },
    },
    // On every use, but a fapi2 site's (fapi.ts).
    rotateRefreshToken,
    ttl: {
      AccessToken: LIFETIMES.accessToken,
      AuthorizationCode: LIFETIMES.authorizationCode,
      ClientCredentials: LIFETIMES.accessToken,
      IdToken: LIFETIMES.idToken,
      Interaction: INTERACTION_SECONDS,
      Grant: LIFETIMES.grant,
      // Counted from the sign-in, not from the last use: using a session cannot keep it alive.
      Session: (_ctx, session) =>
        session.loginTs
          ? Math.max(1, session.loginTs + LIFETIMES.session - epochSeconds())
          : LIFETIMES.session,
      // The engine binds a refresh token to a DPoP key only for public clients, and Yitong has
      // none: every site authenticates, which binds its refresh tokens to it.
      RefreshToken: LIFETIMES.refreshToken,
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: createPolicy(accounts, deps.legalPersons, deps.catalogue),
    },
    loadExistingGrant: (ctx) => loadGrant(ctx, accounts),
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    fetch: createOutboundFetch(
      createOutboundPolicy({
        allowedNetworks: config.outboundAllowedNetworks,
        allowLoopback: !config.production,
      }),
    ),
    renderError: pages.renderError,
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.proxyHops > 0;
  provider.maxIpsCount = config.proxyHops;
  // Client secrets are stored as SHA-256 (random 256-bit secrets need no slow hash).
  provider.Client.prototype.compareClientSecret = function compare(
    this: { clientSecret?: string },
    actual: string,
  ) {
    return Boolean(this.clientSecret) && clientSecretMatches(this.clientSecret as string, actual);
  };
  // A site's ID tokens stay good hints after its signing algorithm changed (id-token-hint.ts).
  acceptEveryOwnAlgorithm(provider);
  // …and an ID token from a refresh names no session the person has left (ended-session-sid.ts).
  leaveOutEndedSessionSid(provider);
  // Outermost: a request no route matched is answered as JSON, a 405 or a 404 (unrouted.ts).
  provider.use(unrouted(provider));
  // Then the same bytes every time, answered before anything else looks at the request.
  provider.use(
    precomputed(provider, [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      provider.pathFor('jwks'),
    ]),
  );
  provider.use(leaveOutUnpublished(deps.unpublished));
  provider.use(closeUnreadBody);
  provider.use(hideStoredSecret);
  provider.use(
    settleRegistration({
      clients: deps.clients,
      writesPerDepartment: deps.registrationsPerDepartment,
      accounts,
      logger: deps.logger,
    }),
  );
  provider.use(outageAnswer);
  provider.use(dropScopesNotAllowed(provider, new Set(configuration.scopes)));
  provider.use(dropRefreshScopesNotAllowed(provider, new Set(configuration.scopes)));
  provider.use(setAsideUnverifiableLogoutHint(provider));
  listenToEngine(provider, deps);
  // The engine is a Koa application too (its typings name only its own events).
  (provider as unknown as NodeJS.EventEmitter).on('error', logStreamErrors(deps.logger));
  return provider;
}

/** Signs the certificate library's short-lived tokens with the current signing key. */
function signWith(jwk: JWK | undefined) {
  return async (payload: Record<string, unknown>) => {
    if (!jwk) throw new Error('no signing key');
    const alg = jwk.alg ?? 'ES256';
    return new SignJWT(payload)
      .setProtectedHeader({ alg, kid: jwk.kid, typ: 'at+jwt' })
      .sign(await importJWK(jwk, alg));
  };
}

/** A pairwise site's own `sub` for a person: keyed, stable, not linkable across sectors. */
function pairwiseSub(hmacKey: KeyObject, sectorIdentifier: string | undefined, accountId: string): string {
  return createHmac('sha256', hmacKey).update(`${sectorIdentifier}\n${accountId}`).digest('base64url');
}
