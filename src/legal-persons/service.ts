/**
 * Legal persons act through the people they authorise (modelled on Singapore's Corppass): the
 * representative and administrators manage the members; members act for the entity at a site
 * when their membership is current, covers that site and the entity is active. Every change is
 * audited with who made it.
 *
 * @example
 *   const entity = await legalPersons.register(person, { creditCode, name, type: 'enterprise', role: 'representative' }, ip);
 *   await legalPersons.grant({ personId: person.id }, entity.creditCode, { idNumber, role: 'agent', clients: 'tax', until: '2027-06-30' }, ip);
 */
import { randomBytes } from 'node:crypto';
import type { Person } from '../accounts/repo.ts';
import { type AccountsService, parseIdNumberOrThrow } from '../accounts/service.ts';
import { consumeOrRefuse, type Limiter } from '../auth/rate-limit.ts';
import { AppError } from '../errors.ts';
import { type CreditCode, parseCreditCode } from '../identity/credit-code.ts';
import type { Sealer } from '../identity/crypto.ts';
import { factsOf, type IdNumber } from '../identity/id-number.ts';
import { createActingFor } from './acting.ts';
import type { BusinessRegistry } from './registry.ts';
import type { EntityStatus, EntityType, LegalPerson, LegalPersonsRepo, Membership, Role } from './repo.ts';
import { parseClients, parseUntil, today } from './rules.ts';

export const ENTITY_TYPES: EntityType[] = ['enterprise', 'institution', 'social_organisation', 'other'];
export const STATUSES: EntityStatus[] = ['pending', 'active', 'suspended', 'deregistered'];
const GRANTABLE: Role[] = ['administrator', 'agent'];

/** Who makes a change: a signed-in person (who must manage the entity), or an operator at the CLI. */
export type Actor = { personId: string } | 'cli';

export interface RegistrationInput {
  creditCode: string;
  name: string;
  type: string;
  /** The registering person's role: the representative, or an administrator naming the representative. */
  role: string;
  representativeIdNumber?: string;
}

export interface GrantInput {
  idNumber: string;
  role: string;
  /** Comma-separated client ids; empty: every site. */
  clients?: string;
  /** YYYY-MM-DD, the last valid day; empty: no end. */
  until?: string;
}

export interface LegalPersonDeps {
  repo: LegalPersonsRepo;
  accounts: Pick<AccountsService, 'findPersonByIdNumber' | 'revealIdNumber'>;
  sealer: Pick<Sealer, 'index'>;
  /** The business registration source; undefined: every claim waits for a counter or an administrator. */
  registry: BusinessRegistry | undefined;
  registryChecksPerPerson: Limiter;
  clientExists(clientId: string): Promise<boolean>;
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

export function createLegalPersonsService({
  repo,
  accounts,
  sealer,
  registry,
  registryChecksPerPerson,
  clientExists,
}: LegalPersonDeps) {
  const code = parseCreditCodeOrThrow;

  async function entityOf(input: string): Promise<LegalPerson> {
    const entity = await repo.findByCode(code(input));
    if (!entity) throw new AppError('legal_person.not_found', 404, { field: 'credit_code' });
    return entity;
  }

  /** For a person: the entity of the code they belong to, or their open claim to it; for the CLI: the entity. */
  async function entityFor(actor: Actor, input: string): Promise<LegalPerson> {
    const entity =
      actor === 'cli'
        ? await repo.findByCode(code(input))
        : await repo.findForMember(code(input), actor.personId);
    if (!entity) throw new AppError('legal_person.not_found', 404, { field: 'credit_code' });
    return entity;
  }

  async function registered(idNumberInput: string, field = 'id_number'): Promise<Person> {
    const idNumber = parseIdNumberOrThrow(idNumberInput);
    const person = await accounts.findPersonByIdNumber(idNumber);
    if (!person) throw new AppError('legal_person.no_account', 404, { field });
    return person;
  }

  /** The entity, when `actor` may manage it; 403 (and nothing changes) otherwise. */
  async function managed(actor: Actor, creditCode: string): Promise<LegalPerson> {
    const entity = await entityFor(actor, creditCode);
    // Nobody is authorised for a claim: its people come with it only once it is proved.
    if (entity.status === 'pending') throw new AppError('legal_person.pending', 403);
    if (actor === 'cli') return entity;
    const membership = await repo.membership(entity.id, actor.personId);
    const manager = membership && ['representative', 'administrator'].includes(membership.role);
    if (
      !manager ||
      entity.status === 'deregistered' ||
      (membership.validUntil && membership.validUntil < today())
    )
      throw new AppError('legal_person.forbidden', 403);
    return entity;
  }

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
    );
    return { ...entity, claimExpiresAt: claimExpiresAt ?? null };
  }

  /** A claim nobody proved yet: refused when the code is registered, or the person has too many open. */
  /**
   * A claim nobody proved yet: refused when the code's entity already has this representative
   * (nothing to prove), or when the person has too many open. A registered entity with another
   * representative may be claimed: a proved claim replaces it (an entity registered by someone
   * who was not its representative, before claims had to be proved).
   */
  async function claimable(person: Person, creditCode: CreditCode, representative: IdNumber) {
    if ((await repo.currentRepresentative(creditCode))?.equals(sealer.index(representative)))
      throw new AppError('legal_person.exists', 409, { field: 'credit_code' });
    const open = await repo.openClaimsOf(person.id);
    if (open.some((claim) => claim.creditCode === creditCode))
      throw new AppError('legal_person.claim_exists', 409, { field: 'credit_code' });
    if (open.length >= OPEN_CLAIMS)
      throw new AppError('legal_person.too_many_claims', 429, { params: { max: OPEN_CLAIMS } });
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
        await claimable(person, creditCode, idNumber);
        return create({ creditCode, ...fields, status: 'pending' }, { idNumber, person }, members, {
          actor: person.id,
          ip,
        });
      }
      if (input.role !== 'administrator') throw new AppError('legal_person.role', 400, { field: 'role' });
      const idNumber = parseIdNumberOrThrow(input.representativeIdNumber ?? '');
      const representative = await accounts.findPersonByIdNumber(idNumber);
      if (representative?.id === person.id) throw new AppError('legal_person.role', 400, { field: 'role' });
      await claimable(person, creditCode, idNumber);
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
      // Nobody proves their own claim, nor one they are part of.
      if (await repo.membership(claimId, by.actor)) throw new AppError('legal_person.own_claim', 403);
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
      const representative = await registered(input.representativeIdNumber, 'representative_id_number');
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

    /** An operator (`yitong legal-person status`) or an administrator suspends, deregisters or reactivates an entity. */
    async setStatus(
      creditCode: string,
      status: string,
      by: { actor: string; ip?: string } = { actor: 'cli' },
    ) {
      if (!STATUSES.includes(status as EntityStatus) || status === 'pending')
        throw new AppError('legal_person.status', 400, { field: 'status' });
      const entity = await entityOf(creditCode);
      await repo.setStatus(entity.id, status as EntityStatus, {
        ...by,
        action: `legal_person.${status}`,
        subject: entity.id,
        details: { credit_code: entity.creditCode, from: entity.status },
      });
      return { ...entity, status: status as EntityStatus };
    },

    /** An administrator authorises a registered citizen as administrator or agent, optionally limited. */
    async grant(actor: Actor, creditCode: string, input: GrantInput, ip?: string) {
      const entity = await managed(actor, creditCode);
      if (!GRANTABLE.includes(input.role as Role))
        throw new AppError('legal_person.role', 400, { field: 'role' });
      const clientIds = await parseClients(input.clients ?? '', clientExists);
      const validUntil = parseUntil(input.until ?? '');
      const person = await registered(input.idNumber);
      const current = await repo.membership(entity.id, person.id);
      if (current?.role === 'representative') throw new AppError('legal_person.representative', 409);
      const by = actor === 'cli' ? 'cli' : actor.personId;
      await repo.saveMembership(
        entity.id,
        { personId: person.id, role: input.role as Role, clientIds, validUntil, grantedBy: by },
        {
          actor: by,
          action: 'legal_person.granted',
          subject: entity.id,
          ip,
          details: {
            credit_code: entity.creditCode,
            member: person.id,
            role: input.role,
            clients: clientIds,
            until: validUntil,
          },
        },
      );
      return { entity, person };
    },

    /** Ends a member's authorisation (by number at the CLI, by member id on the entity's page). */
    async revoke(
      actor: Actor,
      creditCode: string,
      member: { idNumber: string } | { personId: string },
      ip?: string,
    ) {
      const entity = await managed(actor, creditCode);
      const personId = 'personId' in member ? member.personId : (await registered(member.idNumber)).id;
      // The representative is who the registration names: changed through a new proved claim, never removed here.
      if ((await repo.membership(entity.id, personId))?.role === 'representative')
        throw new AppError('legal_person.representative', 409);
      const by = actor === 'cli' ? 'cli' : actor.personId;
      await repo.deleteMembership(entity.id, personId, {
        actor: by,
        action: 'legal_person.revoked',
        subject: entity.id,
        ip,
        details: { credit_code: entity.creditCode, member: personId },
      });
      return entity;
    },

    listForPerson: (personId: string) => repo.listForPerson(personId),

    /** The entity's page: only its members see it. */
    async page(personId: string, creditCode: string) {
      const entity = await entityFor({ personId }, creditCode);
      const membership = await repo.membership(entity.id, personId);
      if (!membership) throw new AppError('legal_person.forbidden', 403);
      const [members, uses] = await Promise.all([repo.members(entity.id), repo.uses(entity.id)]);
      const manages =
        ['representative', 'administrator'].includes(membership.role) &&
        entity.status !== 'deregistered' &&
        entity.status !== 'pending';
      return { entity, membership, manages, members, uses };
    },

    ...createActingFor(repo),
  };
}

export type LegalPersonsService = ReturnType<typeof createLegalPersonsService>;
