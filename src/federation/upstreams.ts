/**
 * Upstream identity providers (身份认证互信互认): the national government service platform or
 * another province, each a manifest in a folder (`upstreams/*.json`, like the attribute
 * catalogue): its issuer (found by discovery), the client Yitong is registered as there, the
 * scopes asked, which of its claims carry the identity number, name and identity level, the
 * highest identity level Yitong accepts from it, how its `acr` values map to Yitong's (never
 * taken as they are), the button's words, and its region. A folder is checked whole: one bad
 * manifest is named, with the field, and nothing of the folder is used.
 *
 * @example
 *   const upstreams = await loadUpstreams('upstreams/', { production: false });
 *   const national = upstreams.get('national');  // { issuer, client_id, label: { 'zh-CN': '使用国家政务服务平台账号登录', … } }
 *   const config = await national.configuration(); // openid-client, after discovery (cached)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRemoteJWKSet, customFetch, importJWK, type JWK } from 'jose';
import * as client from 'openid-client';
import { z } from 'zod';
import { ACR } from '../auth/strength.ts';
import { REGION_CODE } from '../identity/region-code.ts';
import { limitedFetch } from '../limited-body.ts';
import { isPlainLine } from '../text.ts';

const line = (max: number) =>
  z.string().trim().min(1).max(max).refine(isPlainLine, 'must be one line of text');

function manifestSchema(production: boolean) {
  const url = z.string().refine(
    (value) => {
      const parsed = URL.parse(value);
      if (!parsed || parsed.hash || parsed.search) return false;
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
      return parsed.protocol === 'https:' || (!production && parsed.protocol === 'http:' && loopback);
    },
    production ? 'must be an https URL' : 'must be an https URL (http only for localhost)',
  );
  return z
    .strictObject({
      id: z.string().regex(/^[a-z][a-z0-9-]{2,31}$/, 'must be 3–32 characters of a–z, 0–9 and -'),
      issuer: url,
      client_id: line(200),
      /**
       * How Yitong authenticates there: a client secret, or `private_key_jwt` with this private
       * key (a JWK; its public half is what the upstream registers). Keep the folder readable by
       * the service's user only, as the secrets file.
       */
      client_secret: z.string().min(16, 'must have at least 16 characters').optional(),
      private_key_jwk: z
        .looseObject({ kty: z.enum(['EC', 'RSA', 'OKP']), d: z.string().min(1, 'must be a private key') })
        .optional(),
      scope: z
        .string()
        .regex(/^openid( [\x21\x23-\x5b\x5d-\x7e]+)*$/, 'must start with openid, scopes separated by spaces')
        .default('openid profile'),
      /** Which of the upstream's claims hold what Yitong needs. */
      claims: z
        .strictObject({
          id_number: line(100),
          name: line(100),
          identity_level: line(100).optional(),
        })
        .default({ id_number: 'id_number', name: 'name' }),
      /** The highest identity level Yitong takes from this upstream's word. */
      max_identity_level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
      /** Its `acr` values → Yitong's; any other is taken as the weakest (a password). */
      acr_map: z.record(z.string().max(200), z.enum(Object.values(ACR))).default({}),
      /** The platform's name in messages, and the words of its button on the sign-in page. */
      name: z.strictObject({ 'zh-CN': line(40), en: line(80) }),
      label: z.strictObject({ 'zh-CN': line(40), en: line(80) }),
      region_code: z.string().regex(REGION_CODE, 'must be a 6-digit GB/T 2260 division code'),
    })
    .refine((m) => (m.client_secret === undefined) !== (m.private_key_jwk === undefined), {
      message: 'give client_secret or private_key_jwk (one of them)',
      path: ['client_secret'],
    });
}

export type UpstreamManifest = z.infer<ReturnType<typeof manifestSchema>>;

export interface Upstream extends UpstreamManifest {
  /** openid-client's view of it, after discovery; fetched once, again after a failure. */
  configuration(): Promise<client.Configuration>;
  /** Its signing keys (JWKS, cached), for the logout tokens it sends. */
  keys(): Promise<ReturnType<typeof createRemoteJWKSet>>;
}

export class UpstreamError extends Error {
  readonly file: string;
  constructor(file: string, problems: string[]) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'UpstreamError';
    this.file = file;
  }
}

/** A client secret (basic), or a signed assertion with the manifest's private key. */
async function authentication(manifest: UpstreamManifest): Promise<client.ClientAuth> {
  if (manifest.client_secret) return client.ClientSecretBasic(manifest.client_secret);
  const jwk = manifest.private_key_jwk as JWK;
  const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'OKP' ? 'EdDSA' : 'ES256');
  const key = (await importJWK(jwk, alg)) as CryptoKey;
  return client.PrivateKeyJwt({ key, kid: jwk.kid });
}

export function upstreamOf(manifest: UpstreamManifest): Upstream {
  let discovered: Promise<client.Configuration> | undefined;
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const insecure = new URL(manifest.issuer).protocol === 'http:';
  return {
    ...manifest,
    configuration() {
      discovered ??= authentication(manifest)
        .then((auth) =>
          client.discovery(new URL(manifest.issuer), manifest.client_id, undefined, auth, {
            // The ID token's signature is checked too (openid-client trusts the TLS channel
            // otherwise): an upstream's word is kept, and a forged one is refused.
            execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
            timeout: 5,
            // Its answers are read up to 1 MiB, so that one streaming without end fills nothing.
            [client.customFetch]: limitedFetch() as client.CustomFetch,
          }),
        )
        .catch((error: unknown) => {
          discovered = undefined;
          throw error;
        });
      return discovered;
    },
    async keys() {
      keys ??= createRemoteJWKSet(new URL(String((await this.configuration()).serverMetadata().jwks_uri)), {
        [customFetch]: limitedFetch(),
      });
      return keys;
    },
  };
}

/** What the console and the admin API show of an upstream: everything but its secret. */
export function upstreamView({
  client_secret: _secret,
  private_key_jwk: _key,
  configuration: _c,
  keys: _k,
  ...shown
}: Upstream) {
  return shown;
}

/** One manifest checked; UpstreamError naming `source` and each field otherwise. */
export function parseUpstream(source: string, json: unknown, production: boolean): UpstreamManifest {
  const parsed = manifestSchema(production).safeParse(json);
  if (!parsed.success)
    throw new UpstreamError(
      source,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(manifest)'}: ${issue.message}`),
    );
  return parsed.data;
}

/** Every `*.json` of `dir`, checked whole: one bad manifest (or an id given twice) and none is used. */
export async function readUpstreamsDir(dir: string, production: boolean): Promise<UpstreamManifest[]> {
  const manifests: UpstreamManifest[] = [];
  for (const name of (await readdir(dir)).filter((file) => file.endsWith('.json')).sort()) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new UpstreamError(file, [`not JSON: ${(error as Error).message}`]);
    }
    const manifest = parseUpstream(file, json, production);
    if (manifests.some((other) => other.id === manifest.id))
      throw new UpstreamError(file, [`id: ${manifest.id} is defined twice`]);
    manifests.push(manifest);
  }
  return manifests;
}
