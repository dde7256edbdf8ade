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
import { type CreditCode, parseCreditCode } from '../identity/credit-code.ts';
import type { Sealer } from '../identity/crypto.ts';
import { factsOf } from '../identity/id-number.ts';
import { AppError } from '../web/errors.ts';
import { createActingFor } from './acting.ts';
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
  clientExists(clientId: string): Promise<boolean>;
}

export function createLegalPersonsService({ repo, accounts, sealer, clientExists }: LegalPersonDeps) {
  function code(input: string): CreditCode {
    const parsed = parseCreditCode(input);
    if (!parsed.ok) throw new AppError(parsed.error, 400, { field: 'credit_code' });
    return parsed.value;
  }

  async function entityOf(input: string): Promise<LegalPerson> {
    const entity = await repo.findByCode(code(input));
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
    const entity = await entityOf(creditCode);
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
    actor: string,
    ip?: string,
  ): Promise<LegalPerson> {
    const entity = {
      id: randomBytes(16).toString('base64url'),
      ...fields,
      representativeMasked: factsOf(parseIdNumberOrThrow(representative.idNumber)).masked,
    };
    await repo.insertLegalPerson(
      { ...entity, representativeHmac: sealer.index(parseIdNumberOrThrow(representative.idNumber)) },
      members.map((member) => ({ ...member, clientIds: null, validUntil: null, grantedBy: actor })),
      {
        actor,
        action: 'legal_person.registered',
        subject: entity.id,
        ip,
        details: { credit_code: entity.creditCode, status: entity.status },
      },
    );
    return entity;
  }

  return {
    /**
     * A signed-in citizen registers an entity. As its representative with a verified identity
     * (level 2 or more) it is active at once; otherwise it waits for an admin's confirmation.
     */
    async register(person: Person, input: RegistrationInput, ip: string) {
      const creditCode = code(input.creditCode);
      const fields = entityFields(input);
      if (input.role === 'representative') {
        const status = person.identityLevel >= 2 ? 'active' : 'pending';
        return create(
          { creditCode, ...fields, status },
          { idNumber: accounts.revealIdNumber(person), person },
          [{ personId: person.id, role: 'representative' }],
          person.id,
          ip,
        );
      }
      if (input.role !== 'administrator') throw new AppError('legal_person.role', 400, { field: 'role' });
      const idNumber = parseIdNumberOrThrow(input.representativeIdNumber ?? '');
      const representative = await accounts.findPersonByIdNumber(idNumber);
      if (representative?.id === person.id) throw new AppError('legal_person.role', 400, { field: 'role' });
      return create(
        { creditCode, ...fields, status: 'pending' },
        { idNumber, person: representative },
        [
          { personId: person.id, role: 'administrator' },
          ...(representative ? [{ personId: representative.id, role: 'representative' as const }] : []),
        ],
        person.id,
        ip,
      );
    },

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
        'cli',
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

    /** `yitong legal-person confirm`: an operator confirms an entity registered online (pending → active). */
    async confirm(creditCode: string, by: { actor: string; ip?: string } = { actor: 'cli' }) {
      const entity = await entityOf(creditCode);
      if (entity.status !== 'pending') throw new AppError('legal_person.not_pending', 409);
      return this.setStatus(creditCode, 'active', by);
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
      const entity = await entityOf(creditCode);
      const membership = await repo.membership(entity.id, personId);
      if (!membership) throw new AppError('legal_person.forbidden', 403);
      const [members, uses] = await Promise.all([repo.members(entity.id), repo.uses(entity.id)]);
      const manages =
        ['representative', 'administrator'].includes(membership.role) && entity.status !== 'deregistered';
      return { entity, membership, manages, members, uses };
    },

    ...createActingFor(repo),
  };
}

export type LegalPersonsService = ReturnType<typeof createLegalPersonsService>;
