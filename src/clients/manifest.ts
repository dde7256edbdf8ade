/**
 * A departmental client manifest: standard OIDC client metadata (RFC 7591 names) plus the
 * department behind the site and its GB/T 2260 region code, e.g. clients/demo-tax.json.
 */
import { z } from 'zod';
import { ACR } from '../auth/strength.ts';
import { REGION_CODE } from '../identity/region-code.ts';
import { ACCOUNT_CLIENT_ID } from '../oidc/grants.ts';
import { findTextProblem, isPlainLine } from '../text.ts';

/** The algorithms Yitong signs ID tokens and UserInfo with: ES256 by default, RSA for sites that need it. */
export const SIGNING_ALGS = ['ES256', 'RS256', 'PS256'] as const;
/** FAPI 2.0 (5.4.1): what a JWT to or from a fapi2 site may be signed with (of ours: ES256, PS256). */
export const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA'];
/**
 * What `"profile": "fapi2"` makes the engine require of a site besides its own FAPI 2.0 checks:
 * PAR and DPoP. Forced by the provider however the site was registered (oidc/provider.ts); also
 * stored with a manifest's site, for nodes running a release that does not force them. Any other
 * site may ask for them itself.
 */
export const FAPI2_FLAGS = { require_pushed_authorization_requests: true, dpop_bound_access_tokens: true };

/**
 * Manifest fields only the province sets: publishing verified data about people, the service
 * items a site may ask for sensitive data for, and federation with another province.
 */
export const PROVINCE_ONLY_FIELDS = ['publishes', 'service_items', 'federation_partner'] as const;

/**
 * Where a site chooses how its tokens are signed: ID tokens (its logout tokens alike) and UserInfo.
 * The engine's other signed answers (JWT introspection, JARM) are off (oidc/provider.ts). The
 * database's `signs_ps256` (migration 0023) reads the same fields.
 */
export const SIGNED_RESPONSE_FIELDS = [
  'id_token_signed_response_alg',
  'userinfo_signed_response_alg',
] as const;

/**
 * PS256 is the province's to give too: it puts the PS256 keys in the one JWKS every site reads,
 * which some libraries cannot read (oidc/keys.ts).
 */
export const signsPs256 = (manifest: Record<string, unknown>) =>
  SIGNED_RESPONSE_FIELDS.some((field) => manifest[field] === 'PS256');

/** Scopes a manifest may list; the provider releases only these. */
export const SUPPORTED_SCOPES = [
  'openid',
  'offline_access',
  'profile',
  'phone',
  'email',
  'id_number',
  'legal_person',
  // The admin API, for a department's automation (client credentials), limited to its region_code.
  'admin',
  'admin:read',
] as const;

/**
 * The ids of the provider's own clients (oidc/provider.ts, `clients`). The engine finds its own
 * first, so a site registered under one would never sign anyone in, yet be listed and audited.
 */
export const RESERVED_CLIENT_IDS: ReadonlySet<string> = new Set([ACCOUNT_CLIENT_ID]);
export const RESERVED_CLIENT_ID = "is reserved for the provider's own use; choose another client_id";

/** A verified attribute type's scope (`verified:education`); the provider knows which types exist. */
export const VERIFIED_SCOPE = /^verified:[a-z][a-z0-9_]{2,47}$/;

export function manifestSchema(options: { production: boolean }) {
  const siteUrl = z.string().refine((value) => isAllowedSiteUrl(value, options.production), {
    message: options.production
      ? 'must be an absolute https URL without a fragment, user name or password, or spaces'
      : 'must be an absolute https URL (http only for localhost) without a fragment, user name or password, or spaces',
  });
  const line = (max: number) =>
    z
      .string()
      .trim()
      .min(1)
      .max(max)
      .refine(isPlainLine, 'must be one line of text without control or invisible characters');
  const shape = z
    .strictObject({
      client_id: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, 'must be 3–64 characters of a–z, 0–9, . _ -')
        .refine((id) => !RESERVED_CLIENT_IDS.has(id), RESERVED_CLIENT_ID)
        .optional(),
      client_secret: z
        .string()
        .min(43, 'must have at least 43 characters (256 bits); leave it out to have one generated')
        .optional(),
      client_name: line(100),
      department: line(100),
      region_code: z.string().regex(REGION_CODE, 'must be a 6-digit GB/T 2260 division code, e.g. 440100'),
      // A service account (client credentials only) has none; every site that signs people in does.
      redirect_uris: z.array(siteUrl).optional(),
      post_logout_redirect_uris: z.array(siteUrl).optional(),
      backchannel_logout_uri: siteUrl.optional(),
      backchannel_logout_session_required: z.boolean().optional(),
      // Standard metadata the engine hands back (RFC 7592: a site sends back what it read), and
      // options that only make a site stricter. `native` is not offered: its loopback redirect
      // URIs would match on any port. `sector_identifier_uri` is not offered either: the engine
      // would fetch it from wherever a department points it.
      application_type: z.literal('web').optional(),
      require_auth_time: z.boolean().optional(),
      default_max_age: z.number().int().min(0).max(31_536_000).optional(),
      require_signed_request_object: z.boolean().optional(),
      require_pushed_authorization_requests: z.boolean().optional(),
      dpop_bound_access_tokens: z.boolean().optional(),
      policy_uri: siteUrl.optional(),
      tos_uri: siteUrl.optional(),
      // Every site authenticates: the provider takes no public clients (`none`).
      token_endpoint_auth_method: z
        .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
        .optional(),
      grant_types: z
        .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
        .min(1)
        .optional(),
      response_types: z.array(z.literal('code')).optional(),
      scope: z
        .string()
        .refine(
          (value) =>
            value
              .split(' ')
              .filter(Boolean)
              .every((s) => (SUPPORTED_SCOPES as readonly string[]).includes(s) || VERIFIED_SCOPE.test(s)),
          {
            message: `must list only supported scopes: ${SUPPORTED_SCOPES.join(' ')}, verified:<attribute type>`,
          },
        )
        .default(''),
      subject_type: z.enum(['public', 'pairwise']).optional(),
      /** ES256 unless the site's library needs RSA (Discovery requires RS256 to be offered). */
      id_token_signed_response_alg: z.enum(SIGNING_ALGS).optional(),
      userinfo_signed_response_alg: z.enum(SIGNING_ALGS).optional(),
      jwks_uri: siteUrl.optional(),
      jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
      client_uri: siteUrl.optional(),
      logo_uri: siteUrl.optional(),
      /** Where the services menu lists the site, e.g. 社保, 税务, 不动产. */
      category: line(50).optional(),
      /** What the site does with the data, in the citizen's words: on the consent page and in their ledger. */
      purpose: line(200).optional(),
      /** As a source department: the attribute types (attributes/*.json) it may publish. */
      publishes: z
        .array(z.string().regex(/^[a-z][a-z0-9_]{2,47}$/, 'must be attribute type codes'))
        .max(50)
        .optional(),
      /**
       * The service items (政务服务事项: code and name) the site may name as the purpose of asking
       * for a sensitive attribute type; set by the province, like `publishes`.
       */
      service_items: z
        .array(
          z.strictObject({
            code: z.string().regex(/^[0-9A-Z-]{1,40}$/, 'must be 1–40 of 0–9, A–Z and -'),
            name: line(100),
          }),
        )
        .max(100)
        .optional(),
      contacts: z.array(z.string()).optional(),
      default_acr_values: z
        .array(z.enum(Object.values(ACR)))
        .min(1)
        .optional(),
      min_identity_level: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
      /**
       * Another province's (or the national platform's) identity provider using Yitong as its
       * upstream: it gets pairwise `sub`s only, so that partners cannot join their records by
       * Yitong's account ids. Set by the province.
       */
      federation_partner: z.boolean().optional(),
      /**
       * `fapi2`: the FAPI 2.0 Security Profile for this site — pushed authorization requests,
       * PKCE, `private_key_jwt`, DPoP-bound tokens, `iss` in the response, no RS256, refresh
       * tokens that do not rotate.
       */
      profile: z.literal('fapi2').optional(),
    })
    .refine((m) => m.profile !== 'fapi2' || m.token_endpoint_auth_method === 'private_key_jwt', {
      message: 'a fapi2 site authenticates with private_key_jwt',
      path: ['token_endpoint_auth_method'],
    })
    .refine((m) => m.profile !== 'fapi2' || m.id_token_signed_response_alg !== 'RS256', {
      message: 'a fapi2 site gets ES256 or PS256 (FAPI 2.0 allows no RS256)',
      path: ['id_token_signed_response_alg'],
    })
    .refine((m) => m.profile !== 'fapi2' || m.userinfo_signed_response_alg !== 'RS256', {
      message: 'a fapi2 site gets ES256 or PS256 (FAPI 2.0 allows no RS256)',
      path: ['userinfo_signed_response_alg'],
    })
    .refine((m) => !m.federation_partner || m.subject_type === 'pairwise', {
      message: 'a federation partner gets pairwise subs: set "subject_type": "pairwise"',
      path: ['subject_type'],
    })
    .refine((m) => m.token_endpoint_auth_method !== 'private_key_jwt' || m.jwks || m.jwks_uri, {
      message: 'private_key_jwt needs jwks or jwks_uri',
      path: ['token_endpoint_auth_method'],
    })
    .refine((m) => isServiceAccount(m) || (m.redirect_uris?.length ?? 0) > 0, {
      message: 'at least one redirect URI (only a service account, with client_credentials alone, has none)',
      path: ['redirect_uris'],
    })
    .refine((m) => isServiceAccount(m) || m.scope.split(' ').includes('openid'), {
      message: 'must include openid (only a service account may leave it out)',
      path: ['scope'],
    });
  // Every string, nested ones too, must be storable (no NUL, well-formed) before its shape is checked.
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = findTextProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .pipe(shape);
}

export type Manifest = z.infer<ReturnType<typeof manifestSchema>>;

/** The fields a manifest may name. A stored registration may hold more: the engine's defaults. */
export const MANIFEST_FIELDS: ReadonlySet<string> = new Set(
  Object.keys(manifestSchema({ production: true }).out.shape),
);

/** A backend calling APIs in its own name (client credentials only): no people, no redirect URIs. */
export function isServiceAccount(manifest: { grant_types?: readonly string[] | undefined }): boolean {
  const grants = manifest.grant_types ?? [];
  return grants.length > 0 && grants.every((grant) => grant === 'client_credentials');
}

function isAllowedSiteUrl(value: string, production: boolean): boolean {
  // The URL parser drops spaces around it and tabs within; compared as sent, such a URI would
  // never match, and an invisible character makes one read as another. Credentials in it would
  // be sent to, and logged by, whatever it names.
  if (/[\s\p{Cc}\p{Cf}]/u.test(value)) return false;
  const url = URL.parse(value);
  if (!url || url.hash || url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return !production && url.protocol === 'http:' && (loopback || url.hostname.endsWith('.localhost'));
}

/** One line per problem: `redirect_uris.0: must be an absolute https URL …`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(manifest)'}: ${issue.message}`);
}
