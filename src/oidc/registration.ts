/**
 * Department self-registration: dynamic client registration (RFC 7591) and management (RFC
 * 7592), only with an initial access token an administrator issued to one department for one
 * region and a list of scopes. Each registration is held to the security profile of manifests:
 * exact https redirect URIs (http://localhost only outside production), the code flow, only the
 * scopes the token allows, the token's department and a region within the token's.
 */
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { describeIssues, manifestSchema, SUPPORTED_SCOPES } from '../clients/manifest.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { covers, isRegionCode } from '../identity/region-code.ts';
import { AppError } from '../web/errors.ts';

export const DEPARTMENT_POLICY = 'department';

/** Fields the provider adds to what a site sent; not part of a manifest. */
const PROVIDER_FIELDS = ['client_id', 'client_secret', 'client_id_issued_at', 'client_secret_expires_at'];

export function registrationFeature(deps: {
  clients: Pick<ClientsRepo, 'findRegistrationGrant'>;
  production: boolean;
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

    const region = typeof properties.region_code === 'string' ? properties.region_code : bound.region;
    if (!covers(bound.region, region))
      throw new errors.InvalidClientMetadata(
        `region_code ${region} is outside ${bound.region}, the region of this token`,
      );
    const scope = typeof properties.scope === 'string' ? properties.scope : bound.scopes.join(' ');
    const notAllowed = scope.split(' ').filter((s) => !bound.scopes.includes(s));
    if (notAllowed.length)
      throw new errors.InvalidClientMetadata(
        `scope not allowed for this department: ${notAllowed.join(' ')}`,
      );
    Object.assign(properties, { department: bound.department, region_code: region, scope });

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
  const department = request.department.trim();
  if (!department || department.length > 100)
    throw new AppError('registration.department', 400, { field: 'department' });
  if (!isRegionCode(request.regionCode)) throw new AppError('staff.region', 400, { field: 'region_code' });
  const scopes = [...new Set(request.scopes.split(/[\s,]+/).filter(Boolean))];
  if (
    !scopes.includes('openid') ||
    scopes.some((scope) => !(SUPPORTED_SCOPES as readonly string[]).includes(scope))
  )
    throw new AppError('registration.scopes', 400, {
      field: 'scopes',
      params: { scopes: SUPPORTED_SCOPES.join(' ') },
    });
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
