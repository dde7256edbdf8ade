/**
 * Department self-registration: dynamic client registration (RFC 7591) and management (RFC
 * 7592), only with an initial access token an administrator issued to one department for one
 * region and a list of scopes. Each registration is held to the security profile of manifests:
 * exact https redirect URIs (http://localhost only outside production), the code flow, only the
 * scopes the token allows, the token's department and a region within the token's.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountsService } from '../accounts/service.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import { ADMIN_SCOPES } from '../auth/strength.ts';
import {
  describeIssues,
  manifestSchema,
  PROVINCE_ONLY_FIELDS,
  SIGNED_RESPONSE_FIELDS,
  SUPPORTED_SCOPES,
} from '../clients/manifest.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { clientSecretMatches, providerSecretOf } from '../clients/service.ts';
import { AppError } from '../errors.ts';
import { covers, isRegionCode } from '../identity/region-code.ts';
import { isOutage } from '../outage.ts';
import { isPlainLine } from '../text.ts';

export const DEPARTMENT_POLICY = 'department';

/** Fields the provider adds to what a site sent; not part of a manifest. */
const PROVIDER_FIELDS = ['client_id', 'client_secret', 'client_id_issued_at', 'client_secret_expires_at'];

export function registrationFeature(deps: {
  clients: Pick<ClientsRepo, 'findRegistrationGrant'>;
  production: boolean;
  /** Registrations and updates per department ('site-reg:dept'). */
  writesPerDepartment: Pick<Limiter, 'consume'>;
}) {
  const schema = manifestSchema({ production: deps.production });

  async function department(ctx: KoaContextWithOIDC, properties: Record<string, unknown>) {
    // Creation: the grant behind the initial access token. Update (RFC 7592): the client as registered.
    const iat = ctx.oidc.entities.InitialAccessToken;
    const grant = iat ? await deps.clients.findRegistrationGrant(iat.jti) : undefined;
    const current = ctx.oidc.client?.metadata();
    const bound = grant
      ? { department: grant.department, region: grant.regionCode, scopes: grant.scopes }
      : current && {
          department: String(current.department),
          region: String(current.region_code),
          scopes: String(current.scope ?? '').split(' '),
        };
    if (!bound) throw new errors.InvalidToken('the initial access token does not belong to a department');
    // What bounds it: the token's grant, or for an update what the site was registered with.
    const within = grant ? 'of this token' : 'this site is registered for';
    for (const field of ['region_code', 'scope', 'department'])
      if (properties[field] !== undefined && typeof properties[field] !== 'string')
        throw new errors.InvalidClientMetadata(`${field} must be a string`);
    if (properties.department !== undefined && properties.department !== bound.department)
      throw new errors.InvalidClientMetadata(
        `department is ${bound.department}, the department ${within}: leave it out or send it unchanged`,
      );

    const region = (properties.region_code as string | undefined) ?? bound.region;
    if (!covers(bound.region, region))
      throw new errors.InvalidClientMetadata(
        `region_code ${region} is outside ${bound.region}, the region ${within}`,
      );
    const scope = (properties.scope as string | undefined) ?? bound.scopes.join(' ');
    const notAllowed = scope
      .split(' ')
      .filter((s) => s && (!bound.scopes.includes(s) || ADMIN_SCOPES.includes(s)));
    if (notAllowed.length)
      throw new errors.InvalidClientMetadata(
        `scope ${notAllowed.join(' ')} is not among the scopes ${within}`,
      );
    // Publishing verified data is the province's decision, like the admin scopes: never self-given.
    // An update (RFC 7592) keeps what the province set: sent back unchanged, or left out.
    for (const field of PROVINCE_ONLY_FIELDS) {
      const set = current?.[field];
      if (properties[field] !== undefined && !isDeepStrictEqual(properties[field], set))
        throw new errors.InvalidClientMetadata(`${field} is set by the province, not by registration`);
      if (set !== undefined) properties[field] = set;
    }
    for (const field of SIGNED_RESPONSE_FIELDS)
      if (properties[field] === 'PS256' && current?.[field] !== 'PS256')
        throw new errors.InvalidClientMetadata(
          `${field} PS256 is set by the province, not by registration (it puts PS256 keys in the JWKS every site reads): choose ES256 or RS256`,
        );
    // A fapi2 site stays one: an update that leaves the profile out keeps it, and with it PAR and
    // DPoP, so a leaked registration access token cannot lower the site's protection.
    if (current?.profile === 'fapi2') properties.profile = 'fapi2';
    Object.assign(properties, { department: bound.department, region_code: region, scope });
    // Registration's own default (OpenID Connect Dynamic Client Registration 1.0 §2): a site that
    // names no algorithm may rely on RS256, as go-oidc v2 does. A manifest's default stays ES256;
    // a fapi2 site, which may not have RS256, gets ES256. An update that leaves it out keeps the
    // site's (one registered before this rule has ES256).
    properties.id_token_signed_response_alg ??=
      current?.id_token_signed_response_alg ?? (properties.profile === 'fapi2' ? 'ES256' : 'RS256');

    const manifest = Object.fromEntries(
      Object.entries(properties).filter(([key]) => !PROVIDER_FIELDS.includes(key)),
    );
    const parsed = schema.safeParse(manifest);
    if (!parsed.success) {
      const problems = describeIssues(parsed.error).join('; ');
      const redirect = parsed.error.issues.some((issue) => String(issue.path[0]).includes('redirect_uri'));
      if (!redirect) throw new errors.InvalidClientMetadata(problems);
      // This error class has a fixed description; say what is wrong with the URI instead.
      throw Object.assign(new errors.InvalidRedirectUri(), { error_description: problems });
    }
    // Counted once it would be stored: a department's script that sends malformed requests is
    // told what is wrong each time, not locked out for an hour. The engine checks some metadata
    // after this (a key set, a fragment): settleRegistration gives the count back then.
    const { allowed, retryAfterSeconds } = await deps.writesPerDepartment.consume(bound.department);
    if (allowed) ctx.state.countedFor = bound.department; // given back if refused after (settleRegistration)
    if (!allowed) {
      ctx.set('retry-after', String(retryAfterSeconds));
      throw Object.assign(new errors.OIDCProviderError(429, 'invalid_request'), {
        error_description: `this department has registered or updated its sites too often: try again in ${Math.ceil(retryAfterSeconds / 60)} min`,
      });
    }
  }

  return {
    registration: {
      enabled: true,
      initialAccessToken: true,
      issueRegistrationAccessToken: true,
      policies: { [DEPARTMENT_POLICY]: department },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };
}

export interface TokenRequest {
  department: string;
  regionCode: string;
  scopes: string;
  days?: number;
}

/** A department's name as a token records it: one plain line of at most 100 characters. */
export function parseDepartment(value: string): string {
  const department = value.trim();
  if (!department || department.length > 100 || !isPlainLine(department))
    throw new AppError('registration.department', 400, { field: 'department' });
  return department;
}

/** Admin scopes are the province's to give, site by site (a manifest or the console): never through self-registration. */
const SELF_REGISTRABLE = SUPPORTED_SCOPES.filter((scope) => !ADMIN_SCOPES.includes(scope));

/**
 * The scopes a token lets a department's sites ask for: openid and others of SELF_REGISTRABLE,
 * separated by spaces or commas.
 *
 * @example
 *   parseRegistrationScopes('openid profile'); // ['openid', 'profile']
 *   parseRegistrationScopes('openid admin');   // AppError registration.scopes
 */
export function parseRegistrationScopes(value: string): string[] {
  const scopes = [...new Set(value.split(/[\s,]+/).filter(Boolean))];
  if (!scopes.includes('openid') || scopes.some((scope) => !(SELF_REGISTRABLE as string[]).includes(scope)))
    throw new AppError('registration.scopes', 400, {
      field: 'scopes',
      params: { scopes: SELF_REGISTRABLE.join(' '), admin: ADMIN_SCOPES.join(', ') },
    });
  return scopes;
}

/**
 * Issues a department's initial access token (shown once): valid `days` (1–90, default 30), for
 * sites of `regionCode` or under it, listing only `scopes`.
 */
export async function issueInitialAccessToken(
  provider: Provider,
  clients: Pick<ClientsRepo, 'saveRegistrationGrant'>,
  request: TokenRequest,
  actor: string,
): Promise<string> {
  const department = parseDepartment(request.department);
  if (!isRegionCode(request.regionCode)) throw new AppError('staff.region', 400, { field: 'region_code' });
  const scopes = parseRegistrationScopes(request.scopes);
  const days = request.days ?? 30;
  if (!Number.isInteger(days) || days < 1 || days > 90)
    throw new AppError('registration.days', 400, { field: 'days' });
  const token = new provider.InitialAccessToken({ expiresIn: days * 86_400, policies: [DEPARTMENT_POLICY] });
  const value = await token.save();
  await clients.saveRegistrationGrant(
    { tokenId: token.jti, department, regionCode: request.regionCode, scopes, createdBy: actor },
    {
      actor,
      action: 'registration_token.issued',
      details: { department, region_code: request.regionCode, scopes, days },
    },
  );
  return value;
}

/**
 * RFC 7592 lets a site send its `client_secret` when it updates its registration, and the
 * provider compares it with the stored value — for us a SHA-256 hash, so the real secret would be
 * refused. Before the provider reads the update, a secret that matches the hash is swapped for
 * the hash; a wrong one goes on as it came and is refused. Answers never carry the hash: a site
 * keeps the secret it was given.
 */
export function ownSecretOnUpdate(registrationPath: string, clients: Pick<ClientsRepo, 'findEnabledClient'>) {
  return async (req: IncomingMessage): Promise<IncomingMessage> => {
    const id =
      req.url?.startsWith(`${registrationPath}/`) && req.method === 'PUT'
        ? req.url.slice(registrationPath.length + 1).split('?')[0]
        : undefined;
    if (!id || !/^application\/json\b/.test(req.headers['content-type'] ?? '')) return req;
    // Declared too long: the provider refuses it by the header alone, without waiting for it.
    if (Number(req.headers['content-length']) > ENGINE_BODY_LIMIT) return req;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      // Answered by app.ts: cut short here, the rest would reach the provider as the whole.
      if (size > ENGINE_BODY_LIMIT) throw new BodyTooLargeError();
      chunks.push(chunk as Buffer);
    }
    let raw = Buffer.concat(chunks);
    try {
      const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      const found =
        typeof body.client_secret === 'string' && (await clients.findEnabledClient(decodeURIComponent(id)));
      const stored = found && providerSecretOf(found);
      if (stored && clientSecretMatches(stored, body.client_secret as string))
        raw = Buffer.from(JSON.stringify({ ...body, client_secret: stored }));
    } catch (error) {
      // Not JSON: the provider says so. The site not found for an outage: a 503 (app.ts).
      if (isOutage(error)) throw error;
    }
    return replay(req, raw);
  };
}

/** The longest body the engine reads (oidc-provider's shared/selective_body.js). */
export const ENGINE_BODY_LIMIT = 56 * 1024;

/** A protocol endpoint's answer to a longer body (the engine's own says "failed to parse the request body"). */
export const BODY_TOO_LARGE = {
  error: 'invalid_request',
  error_description: `the request body is larger than the ${ENGINE_BODY_LIMIT / 1024} KiB this endpoint takes`,
};

export class BodyTooLargeError extends Error {}

/** The same request with `body` to read (the original stream was read here). */
export function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  return Object.assign(Readable.from([body]), {
    method: req.method,
    url: req.url,
    socket: req.socket,
    httpVersion: req.httpVersion,
    complete: true, // read whole: nothing of it is left unread (closeUnreadBody)
    headers: { ...req.headers, 'content-length': String(body.length) },
  }) as unknown as IncomingMessage;
}

/**
 * After a registration or an update (mounted outside `outageAnswer`, which makes its 503s):
 * - answered 201, the site is in the audit trail (recorded once the answer is settled: a 503
 *   below registers nothing);
 * - refused (4xx, the engine's own checks of the metadata come after the department's count),
 *   it is given back: only what is stored counts against the hour's quota;
 * - answered 503 after the site was stored (its registration access token could not be, Redis
 *   gone), the site was handed to nobody: no one holds its secret or its token. It is taken out
 *   again (disabled, as RFC 7592's delete does) and the trail says why, so the department's
 *   retry registers one site, not a second beside an orphan.
 */
export function settleRegistration(deps: {
  clients: Pick<ClientsRepo, 'disable'>;
  writesPerDepartment: Pick<Limiter, 'refund'>;
  accounts: Pick<AccountsService, 'recordClientRegistration'>;
  logger: Pick<Logger, 'error'>;
}) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const registered = ctx.oidc?.route === 'registration' && ctx.status === 201 && ctx.oidc.entities.Client;
    if (registered) {
      const { department, region_code } = registered.metadata();
      await deps.accounts
        .recordClientRegistration(registered.clientId, { department, region_code }, ctx.ip)
        .catch((error) => deps.logger.error({ err: error }, 'registration not audited'));
    }
    const department = ctx.state.countedFor as string | undefined;
    const created = ctx.oidc?.route === 'registration';
    // An update answered 503 may have been stored before its token's rotation failed: it counts.
    const failed =
      (ctx.status >= 400 && ctx.status < 500 && ctx.status !== 429) || (created && ctx.status === 503);
    if (!department || !failed) return;
    await deps.writesPerDepartment.refund(department).catch(() => {}); // Redis gone: it expires
    const client = ctx.oidc?.entities.Client;
    if (ctx.status !== 503 || !created || !client) return;
    await deps.clients
      .disable(client.clientId, {
        actor: 'registration',
        action: 'client.registration_undone',
        subject: client.clientId,
        ip: ctx.ip,
        details: { client_id: client.clientId, reason: 'its answer failed (503): nothing was handed out' },
      })
      .catch((error) =>
        deps.logger.error({ err: error, client: client.clientId }, 'unanswered registration not undone'),
      );
  };
}

/** Registration answers (RFC 7591/7592 reads and updates) never show the stored hash of a secret. */
export async function hideStoredSecret(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
  await next();
  const body = ctx.body as Record<string, unknown> | undefined;
  if (typeof body?.client_secret === 'string' && body.client_secret.startsWith('sha256:')) {
    delete body.client_secret;
    delete body.client_secret_expires_at;
  }
}
