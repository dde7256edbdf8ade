/**
 * Serves registered departmental clients to oidc-provider from the `clients` table, and stores
 * those registered dynamically. The secret is handed over only as its hash; `compareClientSecret`
 * (provider.ts) hashes what a client presents.
 *
 * Every token, introspection and userinfo request looks its client up, so lookups (found or not)
 * are cached per process. Every change to a site is NOTIFYed (db/changes.ts) and each node drops
 * its copy at once (`forget`); the cache's lifetime is only a safety net should a notification
 * be lost while a node reconnects.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ADMIN_SCOPES } from '../auth/strength.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { hashClientSecret, providerSecretOf } from '../clients/service.ts';

export const CACHE_SECONDS = 60;
const CACHE_LIMIT = 10_000;
/** Every client id we issue: a manifest's (a–z 0–9 . _ -) or one the provider generated (base64url). */
const CLIENT_ID = /^[\w.-]{1,64}$/;

export function createClientAdapter(
  repo: Pick<ClientsRepo, 'findEnabledClient' | 'upsertClient' | 'disable'>,
): Adapter & { forget(id?: string): void } {
  const readOnly = async () => {
    throw new Error('clients are stored, never consumed or revoked by grant');
  };
  const cache = new Map<string, { expires: number; value: Promise<AdapterPayload | undefined> }>();

  function lookup(id: string): Promise<AdapterPayload | undefined> {
    // Anything else (a NUL, a megabyte) is no client of ours: answered without a query.
    if (!CLIENT_ID.test(id)) return Promise.resolve(undefined);
    const now = Date.now();
    const hit = cache.get(id);
    if (hit && hit.expires > now) return hit.value;
    if (cache.size >= CACHE_LIMIT) cache.clear(); // unknown ids must not grow it without bound
    const value = load(id);
    cache.set(id, { expires: now + CACHE_SECONDS * 1000, value });
    value.catch(() => cache.delete(id));
    return value;
  }

  async function load(id: string): Promise<AdapterPayload | undefined> {
    const client = await repo.findEnabledClient(id);
    if (!client) return undefined;
    // Admin scopes count only where the province designated the site: elsewhere the provider
    // never grants them, and the admin API refuses tokens that carry them (admin/api.ts).
    const scope = String(client.metadata.scope ?? '')
      .split(' ')
      .filter((s) => s && (client.adminDesignated || !ADMIN_SCOPES.includes(s)))
      .join(' ');
    return {
      ...client.metadata,
      // A site left with no scope would be allowed every scope by the provider (it checks only a
      // non-empty list): `openid` alone grants a service account nothing.
      scope: scope || 'openid',
      client_id: client.id,
      department: client.department,
      region_code: client.regionCode,
      // During a rotation's grace period the old secret works too (clients/service.ts).
      ...(client.secretHash && { client_secret: providerSecretOf(client) }),
    } as AdapterPayload;
  }

  return {
    find: lookup,
    /** Dynamic registration (RFC 7591/7592) saves here; the secret is kept only as its hash. */
    async upsert(id, payload) {
      const {
        client_id: _id,
        department,
        region_code,
        client_secret,
        ...metadata
      } = payload as Record<string, unknown>;
      const secret = typeof client_secret === 'string' ? client_secret : undefined;
      await repo.upsertClient({
        id,
        department: String(department),
        regionCode: String(region_code),
        metadata,
        // Dynamic registration never grants admin scopes (oidc/registration.ts).
        adminDesignated: false,
        // An update hands back what `find` gave: the hash already.
        secretHash:
          secret === undefined
            ? null
            : secret.startsWith('sha256:')
              ? (secret.split(' ')[0] as string)
              : hashClientSecret(secret),
      });
      cache.delete(id);
    },
    async destroy(id) {
      await repo.disable(id);
      cache.delete(id);
    },
    /** A site changed (one id), or anything may have (none): the next lookup reads the database. */
    forget(id?: string) {
      if (id === undefined) cache.clear();
      else cache.delete(id);
    },
    consume: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}
