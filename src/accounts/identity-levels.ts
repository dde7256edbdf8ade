/**
 * Identity level (实名等级, DESIGN.md): 1 self-registered, 2 name and number confirmed by an
 * authoritative source (a pluggable verifier), 3 confirmed face to face by counter staff at a
 * service hall. Levels only rise. Every check, look-up and confirmation is audited with who,
 * where and when.
 *
 * @example
 *   await levels.verifyOnline(person, '张三', ip);            // level 2, or AppError('identity.mismatch')
 *   await levels.lookUp(staff, idNumber, deskSession, ip);     // the person at the counter
 *   await levels.confirmInPerson(staff, deskSession, person.id, ip); // level 3, audited with the hall
 */
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { consumeOrRefuse, type Limiter } from '../auth/rate-limit.ts';
import { AppError } from '../errors.ts';
import type { IdNumber } from '../identity/id-number.ts';
import { covers, isRegionCode } from '../identity/region-code.ts';
import type { IdentityVerifier } from '../identity/verifier.ts';
import type { AccountsRepo, Person, Staff } from './repo.ts';
import { type AccountsService, normaliseName, parseIdNumberOrThrow } from './service.ts';

export interface IdentityLevelDeps {
  repo: AccountsRepo;
  accounts: Pick<AccountsService, 'revealIdNumber' | 'findPersonByIdNumber' | 'findPerson'>;
  verifier: IdentityVerifier | undefined;
  /** Online checks per person: the authority must not become an oracle for guessing names. */
  checksPerPerson: Limiter;
  /** Look-ups per member of staff: the desk must not become an oracle of who has an account. */
  lookUpsPerStaff: Limiter;
  ephemeral: EphemeralStore;
}

const DESK_SECONDS = 10 * 60;

/**
 * A hall serves the people of its region, as administrators do (a person's region is their
 * number's prefix, masked or not): a county hall its county, a city hall its city, a province
 * hall everyone.
 */
function requireServed(staff: Staff, idNumber: string) {
  if (!covers(staff.regionCode, idNumber.slice(0, 6)))
    throw new AppError('staff.outside_region', 403, { field: 'id_number' });
}
const deskKey = (desk: string) => `staff:desk:${desk}`;

export function createIdentityLevels({
  repo,
  accounts,
  verifier,
  checksPerPerson,
  lookUpsPerStaff,
  ephemeral,
}: IdentityLevelDeps) {
  return {
    onlineCheckAvailable: verifier !== undefined,

    /** Level 2 when the authority confirms this name with the person's own number. */
    async verifyOnline(person: Person, nameInput: string, ip: string): Promise<void> {
      const name = normaliseName(nameInput);
      // Not configured here: no outage (a 503 would page the operators), nothing to retry.
      if (!verifier) throw new AppError('identity.no_verifier', 404);
      const { allowed, retryAfterSeconds } = await checksPerPerson.consume(person.id);
      if (!allowed)
        throw new AppError('rate.identity', 429, {
          params: { hours: Math.max(1, Math.ceil(retryAfterSeconds / 3600)) },
        });
      const outcome = await verifier.verify({ idNumber: accounts.revealIdNumber(person) as IdNumber, name });
      const audit = {
        actor: person.id,
        subject: person.id,
        ip,
        details: { verifier: verifier.kind, outcome },
      };
      if (outcome === 'unavailable') {
        // The authority's outage is no check of the person's: it is not counted against them.
        await checksPerPerson.refund(person.id);
        throw new AppError('identity.unavailable', 503);
      }
      if (outcome === 'mismatch') {
        await repo.recordAudit({ ...audit, action: 'identity.check_failed' });
        throw new AppError('identity.mismatch', 422, { field: 'name' });
      }
      await repo.raiseIdentityLevel(person.id, 2, { ...audit, action: 'identity.verified' }, name);
    },

    staffOf: (personId: string) => repo.findStaff(personId),

    /**
     * A member of staff looks a person up by number, with the card in front of them. A number
     * outside the hall's region is refused by its prefix, before anything is looked up; every
     * look-up is counted and audited, found or not. The person found is the one the desk
     * (`desk`: the staff's session) may confirm next: a confirmation names nobody else.
     */
    async lookUp(staff: Staff, idNumberInput: string, desk: string, ip: string): Promise<Person> {
      const idNumber = parseIdNumberOrThrow(idNumberInput);
      requireServed(staff, idNumber);
      await consumeOrRefuse(lookUpsPerStaff, staff.personId, 'rate.staff_lookup');
      const person = await accounts.findPersonByIdNumber(idNumber);
      await repo.recordAudit({
        actor: staff.personId,
        action: 'staff.looked_up',
        subject: person?.id,
        ip,
        details: { hall: staff.hall, region_code: staff.regionCode, ...(!person && { found: false }) },
      });
      if (!person) throw new AppError('staff.not_found', 404, { field: 'id_number' });
      await ephemeral.put(deskKey(desk), person.id, DESK_SECONDS);
      return person;
    },

    /**
     * The person last looked up at this desk, whom the submitted form showed (`take`: the look-up
     * is used up). Never the member of staff themselves.
     */
    async atDesk(staff: Staff, desk: string, shownPersonId: string, take = false): Promise<Person> {
      const personId = await ephemeral.peek<string>(deskKey(desk));
      if (!personId) throw new AppError('staff.lookup_first', 400);
      // Two tabs: the form acts on the person it showed, never whoever was looked up last; a
      // stale form leaves the look-up it does not name as it was.
      if (personId !== shownPersonId) throw new AppError('staff.lookup_changed', 409);
      // Used up once: of two confirmations sent at once, one finds it.
      if (take && (await ephemeral.take<string>(deskKey(desk))) !== personId)
        throw new AppError('staff.lookup_first', 400);
      const person = await accounts.findPerson(personId);
      if (person?.status !== 'active') throw new AppError('staff.not_found', 404);
      if (person.id === staff.personId) throw new AppError('staff.self', 403);
      requireServed(staff, person.idNumberMasked);
      return person;
    },

    /**
     * The person at the desk, whose forgotten password the counter may reset: never someone who
     * administers or serves at a counter. Their account opens the console or the desk, so it is
     * reset by an administrator above them, under the console's rules.
     */
    async forPasswordReset(staff: Staff, desk: string, shownPersonId: string): Promise<Person> {
      const person = await this.atDesk(staff, desk, shownPersonId, true);
      if (await repo.holdsDuties(person.id)) throw new AppError('staff.privileged', 403);
      return person;
    },

    /** Level 3: confirmed face to face, recorded with the member of staff, the hall and the time. */
    async confirmInPerson(staff: Staff, desk: string, shownPersonId: string, ip: string): Promise<void> {
      const person = await this.atDesk(staff, desk, shownPersonId, true);
      await repo.raiseIdentityLevel(person.id, 3, {
        actor: staff.personId,
        action: 'identity.confirmed',
        subject: person.id,
        ip,
        details: { hall: staff.hall, region_code: staff.regionCode, from_level: person.identityLevel },
      });
    },

    /** `yitong staff add`: makes a registered person counter staff of a hall. */
    async addStaff(idNumberInput: string, hall: string, regionCode: string): Promise<Person> {
      const person = await accounts.findPersonByIdNumber(parseIdNumberOrThrow(idNumberInput));
      if (!person) throw new AppError('staff.not_found', 404, { field: 'id_number' });
      const trimmedHall = hall.trim();
      if (!trimmedHall || trimmedHall.length > 100) throw new AppError('staff.hall', 400, { field: 'hall' });
      if (!isRegionCode(regionCode)) throw new AppError('staff.region', 400, { field: 'region_code' });
      await repo.saveStaff(
        { personId: person.id, hall: trimmedHall, regionCode },
        {
          actor: 'cli',
          action: 'staff.added',
          subject: person.id,
          details: { hall: trimmedHall, region_code: regionCode },
        },
      );
      return person;
    },
  };
}

export type IdentityLevels = ReturnType<typeof createIdentityLevels>;
