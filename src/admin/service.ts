/**
 * What province, city and county administrators may see and do ("cage power"): every read and
 * change is limited to the administrator's region, every change is audited with who, what, on
 * whom and from where. `auditor` reads (the audit trail included); `admin` also changes. The
 * region rules are in regions.ts; the sites' registrations in sites.ts.
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
import { AppError } from '../errors.ts';
import { type CreditCode, regionOf } from '../identity/credit-code.ts';
import type { Sealer } from '../identity/crypto.ts';
import { parseIdNumber } from '../identity/id-number.ts';
import { maskPhone, parseMobile } from '../identity/phone.ts';
import { isRegionCode } from '../identity/region-code.ts';
import { compactTyped } from '../identity/typed.ts';
import type { LegalPersonsService } from '../legal-persons/service.ts';
import type { Sites } from '../oidc/sites.ts';
import { findTextProblem } from '../text.ts';
import { type Admin, requireAbove, requireRegion, widest } from './regions.ts';
import type { AdminRepo, AdminRole } from './repo.ts';
import { createSiteAdministration, type SiteAdministrationDeps } from './sites.ts';

export interface AdminDeps extends SiteAdministrationDeps {
  repo: AdminRepo;
  accountsRepo: AccountsRepo;
  accounts: Pick<AccountsService, 'findPerson' | 'findPersonByIdNumber'>;
  factors: Pick<FactorsRepo, 'factorSummary'>;
  legalPersons: Pick<LegalPersonsService, 'setStatus' | 'confirmClaim' | 'findClaim'>;
  passwordReset: Pick<PasswordReset, 'send'>;
  sealer: Pick<Sealer, 'index'>;
  attributesRepo: Pick<AttributesRepo, 'openCorrectionsIn' | 'openCorrection' | 'answerCorrection'>;
  sites: Pick<Sites, 'signOutEverywhere'>;
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

export function createAdminService(deps: AdminDeps) {
  const { repo, accountsRepo, accounts, factors, legalPersons, sealer } = deps;
  async function person(admin: Admin, personId: string, change: boolean): Promise<Person> {
    const found = await accounts.findPerson(personId);
    if (!found) throw new AppError('admin.not_found', 404);
    requireRegion(admin, found.idNumberMasked.slice(0, 6), change);
    if (change) requireAbove(admin, await repo.grantsOf(found.id));
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
    ...createSiteAdministration(deps),

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
      const phone = parseMobile(q);
      return repo.searchPeople(
        widest(admin, false),
        idNumber.ok ? { idHmac: sealer.index(idNumber.value) } : phone ? { phone } : { name: q },
      );
    },

    /** An account as the console shows it: never the full number. */
    /** The person, when the admin may change them (their region, above them): for a confirmation page. */
    personToChange: (admin: Admin, personId: string) => person(admin, personId, true),

    async account(admin: Admin, personId: string) {
      const found = await person(admin, personId, false);
      const [summary, signIns] = await Promise.all([
        factors.factorSummary(found.id),
        repo.signInsOf(found.id, 10),
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
      // Its sites are told, as when the person does it.
      await deps.sites.signOutEverywhere(personId, ip, admin.personId);
    },

    /** By (the start of) a credit code, typed with spaces or full-width too, or a name. */
    searchLegalPersons(admin: Admin, query: string) {
      const code = compactTyped(query);
      const q = /^[0-9a-z]+$/i.test(code) ? code : query.trim();
      return repo.searchLegalPersons(widest(admin, false), q);
    },

    /** Suspends, deregisters or reactivates an entity of the admin's region. */
    async setLegalPersonStatus(admin: Admin, creditCode: CreditCode, action: string, ip: string) {
      requireRegion(admin, regionOf(creditCode), true);
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
      if (!claim) throw new AppError('admin.claim.not_found', 404);
      requireRegion(admin, regionOf(claim.creditCode as CreditCode), true);
      return legalPersons.confirmClaim(claimId, { actor: admin.personId, ip, via: 'admin', evidence });
    },

    /** People's "this is wrong" requests to the source departments registered in the region. */
    openCorrections: (admin: Admin) => deps.attributesRepo.openCorrectionsIn(widest(admin, false)),

    /** Answers a request for the department it went to (an `admin` grant over that department's region). */
    async answerCorrection(admin: Admin, id: string, answer: string, ip: string) {
      const text = answer.trim();
      if (text.length < 2 || text.length > 500 || findTextProblem(text))
        throw new AppError('attribute.correction.answer', 400, { field: 'answer' });
      const open = /^[1-9][0-9]{0,17}$/.test(id) ? await deps.attributesRepo.openCorrection(id) : undefined;
      if (!open) throw new AppError('attribute.correction.none', 404);
      requireRegion(admin, open.region_code, true);
      await deps.attributesRepo.answerCorrection(id, open.source_client_id, text, {
        actor: admin.personId,
        action: 'attribute.correction.answered',
        ip,
        details: { correction: id, client_id: open.source_client_id },
      });
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
