/**
 * Registering legal persons: a claim to represent an entity must be proved — by the business
 * registration source, a counter, an administrator who saw the evidence, or the operator.
 * Until then it is a claim that blocks nobody and lapses. Part of LegalPersonsService.
 *
 * @example
 *   const entity = await register(person, { creditCode, name, type: 'enterprise', role: 'representative' }, ip);
 *   entity.status; // 'active' when the register lists the person, else 'pending' (a claim)
 *   await confirmClaim(entity.id, { actor: adminId, via: 'admin', evidence: '营业执照原件' });
 */
import { randomBytes } from 'node:crypto';
import type { Person } from '../accounts/repo.ts';
import { type AccountsService, parseIdNumberOrThrow } from '../accounts/service.ts';
import { consumeOrRefuse, type Limiter } from '../auth/rate-limit.ts';
import { AppError } from '../errors.ts';
import { type CreditCode, parseCreditCode } from '../identity/credit-code.ts';
import type { Sealer } from '../identity/crypto.ts';
import { factsOf, type IdNumber } from '../identity/id-number.ts';
import type { BusinessRegistry } from './registry.ts';
import type { EntityStatus, EntityType, LegalPerson, LegalPersonsRepo, Membership } from './repo.ts';

export const ENTITY_TYPES: EntityType[] = ['enterprise', 'institution', 'social_organisation', 'other'];

export interface RegistrationInput {
  creditCode: string;
  name: string;
  type: string;
  /** The registering person's role: the representative, or an administrator naming the representative. */
  role: string;
  representativeIdNumber?: string;
}

/** How long a claim nobody proved stays open, and how many one person may have open at once. */
export const CLAIM_DAYS = 30;
const OPEN_CLAIMS = 3;

/** How a claim to represent an entity was proved (recorded in the audit trail). */
export type Proof = 'business_registry' | 'admin' | 'counter' | 'cli';

export function parseCreditCodeOrThrow(input: string): CreditCode {
  const parsed = parseCreditCode(input);
  if (!parsed.ok) throw new AppError(parsed.error, 400, { field: 'credit_code' });
  return parsed.value;
}

/** The registered person with this identity number; 404 naming `field` otherwise. */
export async function registeredPerson(
  accounts: Pick<AccountsService, 'findPersonByIdNumber'>,
  idNumberInput: string,
  field = 'id_number',
): Promise<Person> {
  const person = await accounts.findPersonByIdNumber(parseIdNumberOrThrow(idNumberInput));
  if (!person) throw new AppError('legal_person.no_account', 404, { field });
  return person;
}

export function createRegistration({
  repo,
  accounts,
  sealer,
  registry,
  registryChecksPerPerson,
}: {
  repo: LegalPersonsRepo;
  accounts: Pick<AccountsService, 'findPersonByIdNumber' | 'revealIdNumber'>;
  sealer: Pick<Sealer, 'index'>;
  registry: BusinessRegistry | undefined;
  registryChecksPerPerson: Limiter;
}) {
  const code = parseCreditCodeOrThrow;

  function entityFields(input: { name: string; type: string }) {
    const name = input.name.trim().replace(/\s+/g, ' ');
    if (name.length < 2 || name.length > 100) throw new AppError('legal_person.name', 400, { field: 'name' });
    if (!ENTITY_TYPES.includes(input.type as EntityType))
      throw new AppError('legal_person.type', 400, { field: 'type' });
    return { name, type: input.type as EntityType };
  }

  async function create(
    fields: { creditCode: CreditCode; name: string; type: EntityType; status: EntityStatus },
    representative: { idNumber: string; person: Person | undefined },
    members: Array<Omit<Membership, 'clientIds' | 'validUntil'>>,
    by: { actor: string; ip?: string; proof?: Proof },
  ): Promise<LegalPerson> {
    const claimExpiresAt =
      fields.status === 'pending' ? new Date(Date.now() + CLAIM_DAYS * 86_400_000) : undefined;
    const entity = {
      id: randomBytes(16).toString('base64url'),
      ...fields,
      representativeMasked: factsOf(parseIdNumberOrThrow(representative.idNumber)).masked,
    };
    await repo.insertLegalPerson(
      {
        ...entity,
        representativeHmac: sealer.index(parseIdNumberOrThrow(representative.idNumber)),
        ...(claimExpiresAt && { claimExpiresAt }),
      },
      members.map((member) => ({ ...member, clientIds: null, validUntil: null, grantedBy: by.actor })),
      {
        actor: by.actor,
        action: fields.status === 'pending' ? 'legal_person.claimed' : 'legal_person.registered',
        subject: entity.id,
        ip: by.ip,
        details: { credit_code: entity.creditCode, status: entity.status, proof: by.proof },
      },
      fields.status === 'pending' ? { by: by.actor, atMost: OPEN_CLAIMS } : undefined,
    );
    return { ...entity, claimExpiresAt: claimExpiresAt ?? null };
  }

  /**
   * A claim nobody proved yet: refused when the code's entity already has this representative
   * (nothing to prove); the person's open claims are counted when it is stored. A registered
   * entity with another representative may be claimed: a proved claim replaces it (an entity
   * registered by someone who was not its representative, before claims had to be proved).
   */
  async function claimable(creditCode: CreditCode, representative: IdNumber) {
    if ((await repo.currentRepresentative(creditCode))?.equals(sealer.index(representative)))
      throw new AppError('legal_person.exists', 409, { field: 'credit_code' });
  }

  return {
    /**
     * A signed-in citizen registers an entity. As its representative, with a verified identity
     * (level 2 or more) that the business registration source confirms, it is active at once and
     * displaces any claim on the code. Otherwise it is a claim: open for CLAIM_DAYS, until a
     * counter or an administrator who sees the evidence proves it; it blocks nobody.
     */
    async register(person: Person, input: RegistrationInput, ip: string) {
      const creditCode = code(input.creditCode);
      const fields = entityFields(input);
      if (input.role === 'representative') {
        const idNumber = accounts.revealIdNumber(person) as IdNumber;
        // The registration source is asked at most a few times a day per person: it must not
        // become an oracle for who represents which company.
        const ask = registry && person.identityLevel >= 2;
        if (ask) await consumeOrRefuse(registryChecksPerPerson, person.id, 'rate.registry');
        const answer = ask ? await registry.check({ creditCode, idNumber, name: person.name }) : undefined;
        if (answer?.outcome === 'mismatch')
          throw new AppError('legal_person.registry_mismatch', 422, { field: 'credit_code' });
        const members = [{ personId: person.id, role: 'representative' as const }];
        if (answer?.outcome === 'match')
          return create(
            { creditCode, ...fields, name: answer.entityName ?? fields.name, status: 'active' },
            { idNumber, person },
            members,
            { actor: person.id, ip, proof: 'business_registry' },
          );
        await claimable(creditCode, idNumber);
        return create({ creditCode, ...fields, status: 'pending' }, { idNumber, person }, members, {
          actor: person.id,
          ip,
        });
      }
      if (input.role !== 'administrator') throw new AppError('legal_person.role', 400, { field: 'role' });
      const idNumber = parseIdNumberOrThrow(input.representativeIdNumber ?? '');
      const representative = await accounts.findPersonByIdNumber(idNumber);
      if (representative?.id === person.id) throw new AppError('legal_person.role', 400, { field: 'role' });
      await claimable(creditCode, idNumber);
      // The representative is named, not made a member: that happens when the claim is proved.
      return create(
        { creditCode, ...fields, status: 'pending' },
        { idNumber, person: representative },
        [{ personId: person.id, role: 'administrator' }],
        { actor: person.id, ip },
      );
    },

    /** An open claim, by its id (the console and the counter list them with the entity search). */
    async findClaim(claimId: string) {
      const claim = await repo.findById(claimId);
      return claim?.status === 'pending' ? claim : undefined;
    },

    /**
     * A claim proved by someone who saw the evidence (an administrator, counter staff, an
     * operator): the entity is active, every other claim on its code ends. Audited with the
     * evidence named.
     */
    async confirmClaim(claimId: string, by: { actor: string; ip?: string; via: Proof; evidence: string }) {
      // Nobody proves their own claim, nor one they are part of: its members, and the
      // representative it names, who becomes a member only when it is proved.
      const [member, named] = await Promise.all([
        repo.membership(claimId, by.actor),
        repo.namedRepresentative(claimId),
      ]);
      if (member || named?.id === by.actor) throw new AppError('legal_person.own_claim', 403);
      // Someone whose identity nobody confirmed is named the representative: only a counter,
      // which sees them and their card, may prove that, never an administrator reading papers.
      if (by.via === 'admin' && named && named.identityLevel < 2)
        throw new AppError('legal_person.level', 409);
      return repo.confirmClaim(claimId, (claim) => ({
        actor: by.actor,
        action: 'legal_person.claim_confirmed',
        subject: claim.id,
        ip: by.ip,
        details: { credit_code: claim.creditCode, proof: by.via, evidence: by.evidence },
      }));
    },

    /** Claims that lapsed, deleted by the daily purge. */
    deleteLapsedClaims: () => repo.deleteLapsedClaims(),

    /** `yitong legal-person create`: an operator registers an entity with its representative (active). */
    async createByOperator(input: {
      creditCode: string;
      name: string;
      type?: string;
      representativeIdNumber: string;
    }) {
      const representative = await registeredPerson(
        accounts,
        input.representativeIdNumber,
        'representative_id_number',
      );
      return create(
        {
          creditCode: code(input.creditCode),
          ...entityFields({ name: input.name, type: input.type ?? 'enterprise' }),
          status: 'active',
        },
        { idNumber: input.representativeIdNumber, person: representative },
        [{ personId: representative.id, role: 'representative' }],
        { actor: 'cli', proof: 'cli' },
      );
    },
  };
}
