/**
 * Departments' sites as administrators register and change them: within the administrator's
 * region, under the manifest rules; sites with admin scopes, and what only the province grants
 * (verified data, service items, federation), are changed by a province administrator alone.
 */
import { isDeepStrictEqual } from 'node:util';
import { listsAdminScope } from '../auth/strength.ts';
import { MANIFEST_FIELDS, PROVINCE_ONLY_FIELDS, signsPs256 } from '../clients/manifest.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { type ClientsService, ManifestError } from '../clients/service.ts';
import { AppError } from '../errors.ts';
import { isRegionCode } from '../identity/region-code.ts';
import type { TokenRequest } from '../oidc/registration.ts';
import { type Admin, isProvinceAdmin, requireRegion, widest } from './regions.ts';

export interface SiteAdministrationDeps {
  clients: Pick<ClientsService, 'create' | 'update' | 'rotateSecret'>;
  clientsRepo: Pick<ClientsRepo, 'listClients' | 'findClient' | 'disable'>;
  /** Issues a department's initial access token for dynamic registration (oidc/registration.ts). */
  issueRegistrationToken(request: TokenRequest, actor: string): Promise<string>;
}

/**
 * Admin scopes, and writing verified data about people, naming the service items a site may ask
 * sensitive data for, federating, or PS256 signatures: the province's grants, given and held by
 * its administrators alone.
 */
function requireProvinceFor(admin: Admin, manifest: Record<string, unknown>) {
  // An empty list or `false` grants nothing.
  const granted = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value));
  const provinceOnly =
    listsAdminScope(manifest.scope) ||
    PROVINCE_ONLY_FIELDS.some((field) => granted(manifest[field])) ||
    signsPs256(manifest);
  if (provinceOnly && !isProvinceAdmin(admin)) throw new AppError('admin.client.admin_scope', 403);
}

export function createSiteAdministration(deps: SiteAdministrationDeps) {
  /**
   * Sites holding what the province grants are the province's: only a province administrator
   * changes them, rotates their secret or disables them. Whoever holds a publishing site's secret
   * writes verified data about anyone in the province.
   */
  async function client(admin: Admin, clientId: string, change: boolean) {
    const found = await deps.clientsRepo.findClient(clientId);
    if (!found) throw new AppError('admin.client.not_found', 404);
    requireRegion(admin, found.regionCode, change);
    if (change) requireProvinceFor(admin, found.metadata);
    return found;
  }

  /** Manifest fields as the console's form or the API's body gave them, saved under the manifest rules. */
  async function saveClient(admin: Admin, manifest: Record<string, unknown>, save: () => Promise<unknown>) {
    // A malformed code is the manifest's problem (400 with the form's other problems), not a region's.
    const region = typeof manifest.region_code === 'string' ? manifest.region_code : '';
    if (isRegionCode(region)) requireRegion(admin, region, true);
    requireProvinceFor(admin, manifest);
    try {
      return await save();
    } catch (error) {
      if (error instanceof ManifestError)
        throw new AppError('admin.client.invalid', 400, {
          params: { problems: error.problems.join('; '), fields: error.fields.join(',') },
        });
      throw error;
    }
  }

  return {
    listClients: (admin: Admin) => deps.clientsRepo.listClients(widest(admin, false)),

    client: (admin: Admin, clientId: string) => client(admin, clientId, false),

    /**
     * Registers a new site from manifest fields (the console's form, the API's body): the same
     * rules as a manifest file. An id taken by any site is refused, never overwritten. Returns the
     * generated secret (shown once).
     */
    createClient(admin: Admin, fields: Record<string, unknown>, ip: string) {
      const clientId = String(fields.client_id ?? '');
      return saveClient(admin, fields, () =>
        deps.clients.create(fields, {
          actor: admin.personId,
          action: 'client.created',
          subject: clientId,
          ip,
          details: { client_id: clientId, fields: Object.keys(fields) },
        }),
      ) as ReturnType<ClientsService['create']>;
    },

    /**
     * Changes a site of the admin's region: its registration with `fields` over it (id, department
     * and region kept). False when no field differs from what is stored: nothing is written or audited.
     */
    async updateClient(
      admin: Admin,
      clientId: string,
      fields: Record<string, unknown>,
      ip: string,
    ): Promise<boolean> {
      const current = await client(admin, clientId, true);
      // The stored registration as a manifest: a self-registered site's also holds the engine's
      // defaults and dates, a fapi2 site's the flags its profile implies.
      const stored = Object.fromEntries(
        Object.entries(current.metadata).filter(([key]) => MANIFEST_FIELDS.has(key)),
      );
      // A form sent back as it was shown, or a PATCH repeating the stored values, is not a change
      // and must not read as one in the audit trail.
      const changed = Object.keys(fields).filter((key) => !isDeepStrictEqual(fields[key], stored[key]));
      if (changed.length === 0) return false;
      const manifest: Record<string, unknown> & { client_id: string } = {
        ...stored,
        ...fields,
        client_id: current.id,
        department: current.department,
        region_code: current.regionCode,
      };
      // The designation for admin scopes is a decision of its own: it holds while the site keeps
      // the scopes, and is made only when a province administrator adds one. Editing the
      // redirect URIs of a site that merely lists them (saved before designations) decides nothing.
      const adminScopes = (scope: unknown) =>
        new Set(
          String(scope ?? '')
            .split(' ')
            .filter((s) => listsAdminScope(s)),
        );
      const before = adminScopes(current.metadata.scope);
      const adds = [...adminScopes(fields.scope)].some((scope) => !before.has(scope));
      const designated = listsAdminScope(manifest.scope) && (current.adminDesignated || adds);
      await saveClient(admin, manifest, () =>
        deps.clients.update(
          manifest,
          {
            actor: admin.personId,
            action: 'client.updated',
            subject: current.id,
            ip,
            details: { client_id: current.id, fields: changed, admin_designated: designated },
          },
          designated,
        ),
      );
      return true;
    },

    /** `endOldNow`: the old secret leaked, so it stops at once instead of after the grace period. */
    async rotateClientSecret(admin: Admin, clientId: string, ip: string, endOldNow = false) {
      await client(admin, clientId, true);
      const secret = await deps.clients.rotateSecret(
        clientId,
        {
          actor: admin.personId,
          action: 'client.secret_rotated',
          subject: clientId,
          ip,
          details: { client_id: clientId, ...(endOldNow && { old_ended: true }) },
        },
        endOldNow,
      );
      if (!secret) throw new AppError('admin.client.not_found', 404);
      return secret;
    },

    async disableClient(admin: Admin, clientId: string, ip: string) {
      await client(admin, clientId, true);
      await deps.clientsRepo.disable(clientId, {
        actor: admin.personId,
        action: 'client.disabled',
        subject: clientId,
        ip,
        details: { client_id: clientId },
      });
    },

    /** An initial access token for a department of the admin's region (shown once). */
    async issueRegistrationToken(admin: Admin, request: TokenRequest) {
      requireRegion(admin, request.regionCode, true);
      return deps.issueRegistrationToken(request, admin.personId);
    },
  };
}
