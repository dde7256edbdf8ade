/**
 * Everything the demo site says to Yitong itself: lazy discovery, the optional internal route to
 * the provider, and validation of back-channel logout tokens
 * (OpenID Connect Back-Channel Logout 1.0, §2.6).
 *
 * @example
 *   const provider = connectToProvider({ issuer, clientId, clientSecret });
 *   const config = await provider.configuration(); // discovered on first use, then cached
 *   const { sid, sub } = await verifyLogoutToken(token, await provider.logoutVerifier());
 */
import {
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  customFetch as joseCustomFetch,
  jwtVerify,
} from 'jose';
import * as client from 'openid-client';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

export interface ProviderOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  internalIssuer?: string;
}

export interface ProviderConnection {
  configuration(): Promise<client.Configuration>;
  logoutVerifier(): Promise<LogoutTokenVerifier>;
  close(): Promise<void>;
}

/** Discovers lazily (the provider may start after the site), caches success, and retries after failure. */
export function connectToProvider(options: ProviderOptions): ProviderConnection {
  const internal = options.internalIssuer
    ? internalFetch(new URL(options.issuer), new URL(options.internalIssuer))
    : undefined;
  let discovered: Promise<{ config: client.Configuration; verifier: LogoutTokenVerifier }> | undefined;

  async function discover() {
    const config = await client.discovery(
      new URL(options.issuer),
      options.clientId,
      options.clientSecret,
      client.ClientSecretBasic(options.clientSecret),
      {
        execute: new URL(options.issuer).protocol === 'http:' ? [client.allowInsecureRequests] : [],
        ...(internal ? { [client.customFetch]: internal.fetch } : {}),
      },
    );
    const jwksUri = config.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error('the provider publishes no jwks_uri');
    const keys = createRemoteJWKSet(new URL(jwksUri), internal ? { [joseCustomFetch]: internal.fetch } : {});
    return { config, verifier: { keys, issuer: config.serverMetadata().issuer, clientId: options.clientId } };
  }

  function connection() {
    discovered ??= discover().catch((error: unknown) => {
      discovered = undefined;
      throw error;
    });
    return discovered;
  }

  return {
    configuration: async () => (await connection()).config,
    logoutVerifier: async () => (await connection()).verifier,
    close: async () => internal?.agent.close(),
  };
}

/**
 * Requests for the public issuer's origin keep their URL — so the Host header, and with it every
 * URL the provider derives from the request, stays public — but the socket goes to the internal
 * issuer's host and port. Rewriting the URL instead would make the provider's discovery document
 * advertise internal endpoints the browser cannot reach.
 */
function internalFetch(publicIssuer: URL, internalIssuer: URL) {
  const connect = buildConnector({});
  const port = internalIssuer.port || (internalIssuer.protocol === 'https:' ? '443' : '80');
  const agent = new Agent({
    connect: (connectOptions, callback) =>
      connect(
        { ...connectOptions, hostname: internalIssuer.hostname, port, protocol: internalIssuer.protocol },
        callback,
      ),
  });
  // openid-client and jose each declare their own (fetch-compatible) init and Response types.
  const fetch = async (url: string, init: object): Promise<Response> => {
    if (new URL(url).origin !== publicIssuer.origin) return globalThis.fetch(url, init as RequestInit);
    return (await undiciFetch(url, { ...init, dispatcher: agent })) as unknown as Response;
  };
  return { agent, fetch };
}

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenClaims {
  sid?: string;
  sub?: string;
}

export interface LogoutTokenVerifier {
  keys: JWTVerifyGetKey;
  issuer: string;
  clientId: string;
}

/** Any reason to refuse a logout token; its message is safe to send back as error_description. */
export class InvalidLogoutToken extends Error {}

export async function verifyLogoutToken(
  token: string,
  verifier: LogoutTokenVerifier,
): Promise<LogoutTokenClaims> {
  const payload = await verifySignatureAndClaims(token, verifier);
  checkLogoutEvent(payload);
  // A nonce marks an ID token: refusing it stops an ID token being replayed as a logout token.
  if (payload.nonce !== undefined) throw new InvalidLogoutToken('a logout token must not contain a nonce');
  return identifiedSession(payload);
}

async function verifySignatureAndClaims(token: string, verifier: LogoutTokenVerifier): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, verifier.keys, {
      issuer: verifier.issuer,
      audience: verifier.clientId,
      algorithms: ['ES256', 'RS256'],
      requiredClaims: ['iat', 'jti'],
      clockTolerance: 30,
    });
    return payload;
  } catch (error) {
    throw new InvalidLogoutToken(describeJoseError(error));
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JOSEError) return `logout token rejected: ${error.message}`;
  return 'logout token could not be verified';
}

function checkLogoutEvent(payload: JWTPayload): void {
  const events = payload.events;
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw new InvalidLogoutToken(`events must contain ${BACKCHANNEL_LOGOUT_EVENT}`);
  }
}

function identifiedSession(payload: JWTPayload): LogoutTokenClaims {
  const { sid, sub } = payload;
  if (sid !== undefined && typeof sid !== 'string') throw new InvalidLogoutToken('sid must be a string');
  if (sub !== undefined && typeof sub !== 'string') throw new InvalidLogoutToken('sub must be a string');
  if (sub === undefined && sid === undefined)
    throw new InvalidLogoutToken('a logout token must contain sub or sid');
  // Absent claims are left out rather than set to undefined, so callers can compare results directly.
  return { ...(sid === undefined ? {} : { sid }), ...(sub === undefined ? {} : { sub }) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
