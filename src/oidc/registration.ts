/**
 * Department self-registration: dynamic client registration (RFC 7591) and management (RFC
 * 7592), only with an initial access token an administrator issued to one department for one
 * region and a list of scopes. Each registration is held to the security profile of manifests:
 * exact https redirect URIs (http://localhost only outside production), the code flow, only the
 * scopes the token allows, the token's department and a region within the token's.
 */
import { isDeepStrictEqual } from 'node:util';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
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
import { AppError } from '../errors.ts';
import { covers, isRegionCode } from '../identity/region-code.ts';
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
