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
import type { AuditFilter } from '../audit/repo.ts';
import type { FactorsRepo } from '../auth/repo.ts';
import type { ClientsRepo } from '../clients/repo.ts';
import { type ClientsService, ManifestError } from '../clients/service.ts';
import type { Sealer } from '../identity/crypto.ts';
import { parseIdNumber } from '../identity/id-number.ts';
import { maskPhone } from '../identity/phone.ts';
import { isRegionCode, scopeOf } from '../identity/region-code.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import type { TokenRequest } from '../oidc/registration.ts';
import { AppError } from '../web/errors.ts';
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
  legalPersons: Pick<LegalPersonsService, 'setStatus' | 'confirm'>;
  clients: Pick<ClientsService, 'apply' | 'rotateSecret'>;
  passwordReset: Pick<PasswordReset, 'send'>;
  /** Issues a department's initial access token for dynamic registration (oidc/registration.ts). */
  issueRegistrationToken(request: TokenRequest, actor: string): Promise<string>;
  clientsRepo: Pick<ClientsRepo, 'listClients' | 'findClient' | 'disable'>;
  sealer: Pick<Sealer, 'index'>;
}

const ROLES: AdminRole[] = ['admin', 'auditor'];

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

export function createAdminService(deps: AdminDeps) {
  const { repo, accountsRepo, accounts, factors, legalPersons, sealer } = deps;
  async function person(admin: Admin, personId: string, change: boolean): Promise<Person> {
    const found = await accounts.findPerson(personId);
    if (!found) throw new AppError('admin.not_found', 404);
    require(admin, found.idNumberMasked.slice(0, 6), change);
    return found;
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

    /** confirm (pending → active), suspend, deregister or reactivate an entity of the region. */
    async setLegalPersonStatus(admin: Admin, creditCode: string, action: string, ip: string) {
      require(admin, creditCode.toUpperCase().slice(2, 8), true);
      const by = { actor: admin.personId, ip };
      if (action === 'confirm') return legalPersons.confirm(creditCode, by);
      const status = { suspend: 'suspended', deregister: 'deregistered', reactivate: 'active' }[action];
      if (!status) throw new AppError('legal_person.status', 400);
      return legalPersons.setStatus(creditCode, status, by);
    },

    listClients: (admin: Admin) => deps.clientsRepo.listClients(widest(admin, false)),

    async client(admin: Admin, clientId: string, change = false) {
      const found = await deps.clientsRepo.findClient(clientId);
      if (!found) throw new AppError('admin.not_found', 404);
      require(admin, found.regionCode, change);
      return found;
    },

    /**
     * Creates or edits a site from manifest fields (the console's form, the API's body): the same
     * rules as a manifest file. Returns the generated secret on creation (shown once).
     */
    async saveClient(admin: Admin, fields: Record<string, unknown>, ip: string, existingId?: string) {
      const current = existingId ? await this.client(admin, existingId, true) : undefined;
      const manifest = {
        ...(current && {
          ...current.metadata,
          department: current.department,
          region_code: current.regionCode,
        }),
        ...fields,
        ...(current && { client_id: current.id }),
      };
      if (typeof manifest.region_code === 'string') require(admin, manifest.region_code, true);
      else require(admin, '', true);
      try {
        return await deps.clients.apply(manifest, {
          actor: admin.personId,
          action: current ? 'client.updated' : 'client.created',
          subject: String(manifest.client_id ?? ''),
          ip,
          details: { client_id: manifest.client_id, fields: Object.keys(fields) },
        });
      } catch (error) {
        if (error instanceof ManifestError)
          throw new AppError('admin.client.invalid', 400, {
            params: { problems: error.problems.join('; ') },
          });
        throw error;
      }
    },

    async rotateClientSecret(admin: Admin, clientId: string, ip: string) {
      await this.client(admin, clientId, true);
      const secret = await deps.clients.rotateSecret(clientId, {
        actor: admin.personId,
        action: 'client.secret_rotated',
        subject: clientId,
        ip,
        details: { client_id: clientId },
      });
      if (!secret) throw new AppError('admin.not_found', 404);
      return secret;
    },

    async disableClient(admin: Admin, clientId: string, ip: string) {
      await this.client(admin, clientId, true);
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
