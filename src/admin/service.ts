/**
 * What province, city and county administrators may see and do ("cage power"): every read and
 * change is limited to the administrator's region, every change is audited with who, what, on
 * whom and from where. `auditor` reads (the audit trail included); `admin` also changes.
 *
 * @example
 *   const admin = await console.adminOf(personId);                 // undefined: not an administrator
 *   await console.lock(admin, targetId, ip);                       // 403 outside the admin's region
 */
import type { PasswordReset } from '../accounts/password-reset.ts';
import type { AccountsRepo, Person } from '../accounts/repo.ts';
import { type AccountsService, parseIdNumberOrThrow } from '../accounts/service.ts';
import type { AttributesRepo } from '../attributes/repo.ts';
import type { AuditFilter } from '../audit/repo.ts';
import type { FactorsRepo } from '../auth/repo.ts';
import { listsAdminScope } from '../auth/strength.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { type ClientsService, ManifestError } from '../clients/service.ts';
import { AppError } from '../errors.ts';
import { type CreditCode, regionOf } from '../identity/credit-code.ts';
import type { Sealer } from '../identity/crypto.ts';
import { parseIdNumber } from '../identity/id-number.ts';
import { maskPhone } from '../identity/phone.ts';
import { covers, isRegionCode, levelOf, scopeOf } from '../identity/region-code.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import type { TokenRequest } from '../oidc/registration.ts';
import { findTextProblem } from '../text.ts';
import type { AdminRepo, AdminRole, Grant } from './repo.ts';

export interface Admin {
  personId: string;
  grants: Grant[];
}

export interface AdminDeps {
  repo: AdminRepo;
  accountsRepo: AccountsRepo;
  accounts: Pick<AccountsService, 'findPerson' | 'findPersonByIdNumber'>;
  factors: Pick<FactorsRepo, 'factorSummary'>;
  legalPersons: Pick<LegalPersonsService, 'setStatus' | 'confirmClaim' | 'findClaim'>;
  clients: Pick<ClientsService, 'create' | 'update' | 'rotateSecret'>;
  passwordReset: Pick<PasswordReset, 'send'>;
  /** Issues a department's initial access token for dynamic registration (oidc/registration.ts). */
  issueRegistrationToken(request: TokenRequest, actor: string): Promise<string>;
  clientsRepo: Pick<ClientsRepo, 'listClients' | 'findClient' | 'disable'>;
  sealer: Pick<Sealer, 'index'>;
  attributesRepo: Pick<AttributesRepo, 'openCorrectionsIn' | 'openCorrection' | 'answerCorrection'>;
}

const ROLES: AdminRole[] = ['admin', 'auditor'];

/** What an administrator may do to an entity → the status it then has. */
const STATUS_OF: Record<string, string> = {
  suspend: 'suspended',
  deregister: 'deregistered',
  reactivate: 'active',
};

/** What may be done to an account, as the console's and the API's URLs name it → the method. */
export const PERSON_ACTIONS = {
  lock: 'lock',
  unlock: 'unlock',
  'sign-out': 'signOut',
  'reset-password': 'sendPasswordReset',
} as const;

/** The widest prefix the admin's grants give for reading (any role) or changing (`admin`). */
function scopes(admin: Admin, change: boolean): string[] {
  return admin.grants
    .filter((grant) => !change || grant.role === 'admin')
    .map((grant) => scopeOf(grant.regionCode));
}

function widest(admin: Admin, change: boolean): string {
  const prefixes = scopes(admin, change);
  if (prefixes.length === 0) throw new AppError('admin.forbidden', 403);
  return prefixes.reduce((a, b) => (b.length < a.length ? b : a));
}

/** 403 unless one of the admin's grants covers `region` (for changes: an `admin` grant). */
function require(admin: Admin, region: string, change: boolean) {
  if (!scopes(admin, change).some((prefix) => region.startsWith(prefix)))
    throw new AppError('admin.forbidden', 403);
}

/** Whether the admin may change things for the whole province (a province-level `admin` grant). */
export const isProvinceAdmin = (admin: Admin) =>
  admin.grants.some((grant) => grant.role === 'admin' && levelOf(grant.regionCode) === 0);

/**
 * An administrator is acted on only from strictly higher up the region tree: a city admin over a
 * county's, the province over a city's; never a peer, never oneself. A person's region is only
 * their number's prefix, so without this a county admin could lock the province's.
 */
function requireAbove(admin: Admin, target: Grant[]) {
  const above = (grant: Grant) =>
    admin.grants.some(
      (mine) =>
        mine.role === 'admin' &&
        covers(mine.regionCode, grant.regionCode) &&
        levelOf(mine.regionCode) < levelOf(grant.regionCode),
    );
  if (!target.every(above)) throw new AppError('admin.peer', 403);
}

export function createAdminService(deps: AdminDeps) {
  const { repo, accountsRepo, accounts, factors, legalPersons, sealer } = deps;
  async function person(admin: Admin, personId: string, change: boolean): Promise<Person> {
    const found = await accounts.findPerson(personId);
    if (!found) throw new AppError('admin.not_found', 404);
    require(admin, found.idNumberMasked.slice(0, 6), change);
    if (change) requireAbove(admin, await repo.grantsOf(found.id));
    return found;
  }

  /** Sites with admin scopes are the province's: only a province administrator changes them. */
  async function client(admin: Admin, clientId: string, change: boolean) {
    const found = await deps.clientsRepo.findClient(clientId);
    if (!found) throw new AppError('admin.not_found', 404);
    require(admin, found.regionCode, change);
    if (change && listsAdminScope(found.metadata.scope) && !isProvinceAdmin(admin))
      throw new AppError('admin.client.admin_scope', 403);
    return found;
  }

  /** Manifest fields as the console's form or the API's body gave them, saved under the manifest rules. */
  async function saveClient(admin: Admin, manifest: Record<string, unknown>, save: () => Promise<unknown>) {
    // A malformed code is the manifest's problem (400 with the form's other problems), not a region's.
    const region = typeof manifest.region_code === 'string' ? manifest.region_code : '';
    if (isRegionCode(region)) require(admin, region, true);
    if (listsAdminScope(manifest.scope) && !isProvinceAdmin(admin))
      throw new AppError('admin.client.admin_scope', 403);
    // Writing verified data about people, and naming the service items a site may ask for
    // sensitive data for, are the province's grants too.
    const provinceOnly = ['publishes', 'service_items', 'federation_partner'].some(
      (field) => manifest[field] !== undefined,
    );
    if (provinceOnly && !isProvinceAdmin(admin)) throw new AppError('admin.client.admin_scope', 403);
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

  const audit = (
    admin: Admin,
    action: string,
    subject: string,
    ip: string,
    details: Record<string, unknown> = {},
  ) => ({
    actor: admin.personId,
    action,
    subject,
    ip,
    details,
  });

  return {
    async adminOf(personId: string): Promise<Admin | undefined> {
      const grants = await repo.grantsOf(personId);
      return grants.length ? { personId, grants } : undefined;
    },

    canChange: (admin: Admin) => admin.grants.some((grant) => grant.role === 'admin'),

    /** By identity number (through its HMAC), 11-digit phone number, or the start of a name. */
    searchPeople(admin: Admin, query: string) {
      const q = query.trim();
      if (!q) return Promise.resolve([]);
      const idNumber = parseIdNumber(q);
      return repo.searchPeople(
        widest(admin, false),
        idNumber.ok
          ? { idHmac: sealer.index(idNumber.value) }
          : /^1\d{10}$/.test(q)
            ? { phone: q }
            : { name: q },
      );
    },

    /** An account as the console shows it: never the full number. */
    async account(admin: Admin, personId: string) {
      const found = await person(admin, personId, false);
      const [summary, signIns] = await Promise.all([
        factors.factorSummary(found.id),
        repo.searchAudit('', { subject: found.id, action: 'signin' }, 10),
      ]);
      // Masked, with whether it was proved: a reset link goes to this number.
      const phone = found.phone && {
        masked: maskPhone(found.phone),
        verified: Boolean(found.phoneVerifiedAt),
      };
      return { person: found, phone, ...summary, signIns };
    },

    async lock(admin: Admin, personId: string, ip: string) {
      await person(admin, personId, true);
      await accountsRepo.setStatus(personId, 'locked', audit(admin, 'account.locked', personId, ip));
    },

    async unlock(admin: Admin, personId: string, ip: string) {
      await person(admin, personId, true);
      await accountsRepo.setStatus(personId, 'active', audit(admin, 'account.unlocked', personId, ip));
    },

    /** Sends the person a single-use link to choose a new password (after the admin checked who asks). */
    async sendPasswordReset(admin: Admin, personId: string, ip: string) {
      const found = await person(admin, personId, true);
      await deps.passwordReset.send(found, { actor: admin.personId, ip });
    },

    async signOut(admin: Admin, personId: string, ip: string) {
      await person(admin, personId, true);
      await accountsRepo.signOutEverywhere(personId, audit(admin, 'account.signed_out', personId, ip));
    },

    searchLegalPersons: (admin: Admin, query: string) =>
      repo.searchLegalPersons(widest(admin, false), query.trim()),

    /** Suspends, deregisters or reactivates an entity of the admin's region. */
    async setLegalPersonStatus(admin: Admin, creditCode: CreditCode, action: string, ip: string) {
      require(admin, regionOf(creditCode), true);
      const status = Object.hasOwn(STATUS_OF, action) ? STATUS_OF[action] : undefined;
      if (!status) throw new AppError('legal_person.status', 400, { field: 'action' });
      return legalPersons.setStatus(creditCode, status, { actor: admin.personId, ip });
    },

    /**
     * A claim to represent an entity of the region, proved by what the administrator saw
     * (`evidence`, e.g. the business licence and the representative's card): the entity becomes
     * active and every other claim on its code lapses.
     */
    async confirmClaim(admin: Admin, claimId: string, evidence: string, ip: string) {
      // Someone who saw the documents: never a department's automation.
      if (admin.personId.startsWith('client:')) throw new AppError('admin.person_required', 403);
      const claim = await legalPersons.findClaim(claimId);
      if (!claim) throw new AppError('admin.not_found', 404);
      require(admin, regionOf(claim.creditCode as CreditCode), true);
      return legalPersons.confirmClaim(claimId, { actor: admin.personId, ip, via: 'admin', evidence });
    },

    listClients: (admin: Admin) => deps.clientsRepo.listClients(widest(admin, false)),

    /** People's "this is wrong" requests to the source departments registered in the region. */
    openCorrections: (admin: Admin) => deps.attributesRepo.openCorrectionsIn(widest(admin, false)),

    /** Answers a request for the department it went to (an `admin` grant over that department's region). */
    async answerCorrection(admin: Admin, id: string, answer: string, ip: string) {
      const text = answer.trim();
      if (text.length < 2 || text.length > 500 || findTextProblem(text))
        throw new AppError('attribute.correction.answer', 400, { field: 'answer' });
      const open = /^[1-9][0-9]{0,17}$/.test(id) ? await deps.attributesRepo.openCorrection(id) : undefined;
      if (!open) throw new AppError('attribute.correction.none', 404);
      require(admin, open.region_code, true);
      await deps.attributesRepo.answerCorrection(id, open.source_client_id, text, {
        actor: admin.personId,
        action: 'attribute.correction.answered',
        ip,
        details: { correction: id, client_id: open.source_client_id },
      });
    },

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

    /** Changes a site of the admin's region: its registration with `fields` over it (id, department and region kept). */
    async updateClient(admin: Admin, clientId: string, fields: Record<string, unknown>, ip: string) {
      const current = await client(admin, clientId, true);
      const manifest: Record<string, unknown> & { client_id: string } = {
        ...current.metadata,
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
            details: { client_id: current.id, fields: Object.keys(fields), admin_designated: designated },
          },
          designated,
        ),
      );
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
      if (!secret) throw new AppError('admin.not_found', 404);
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
      require(admin, request.regionCode, true);
      return deps.issueRegistrationToken(request, admin.personId);
    },

    searchAudit: (admin: Admin, filter: AuditFilter, limit = 200) =>
      repo.searchAudit(widest(admin, false), filter, limit),

    /** `yitong admin add`: bootstraps an administrator. */
    async addAdmin(idNumberInput: string, role: string, regionCode: string) {
      if (!ROLES.includes(role as AdminRole)) throw new AppError('admin.role', 400, { field: 'role' });
      if (!isRegionCode(regionCode)) throw new AppError('staff.region', 400, { field: 'region_code' });
      const found = await accounts.findPersonByIdNumber(parseIdNumberOrThrow(idNumberInput));
      if (!found) throw new AppError('staff.not_found', 404, { field: 'id_number' });
      await repo.addGrant(
        found.id,
        { role: role as AdminRole, regionCode },
        {
          actor: 'cli',
          action: 'admin.added',
          subject: found.id,
          details: { role, region_code: regionCode },
        },
      );
      return found;
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
