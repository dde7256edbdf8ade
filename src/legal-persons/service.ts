/**
 * Legal persons act through the people they authorise (modelled on Singapore's Corppass): the
 * representative and administrators manage the members; members act for the entity at a site
 * when their membership is current, covers that site and the entity is active. Registering an
 * entity — a claim, until it is proved — is in registration.ts. Every change is audited with who
 * made it.
 *
 * @example
 *   const entity = await legalPersons.register(person, { creditCode, name, type: 'enterprise', role: 'representative' }, ip);
 *   await legalPersons.grant({ personId: person.id }, entity.creditCode, { idNumber, role: 'agent', clients: 'tax', until: '2027-06-30' }, ip);
 */
import type { AccountsService } from '../accounts/service.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import { AppError } from '../errors.ts';
import type { Sealer } from '../identity/crypto.ts';
import { createActingFor } from './acting.ts';
import { createRegistration, parseCreditCodeOrThrow, registeredPerson } from './registration.ts';
import type { BusinessRegistry } from './registry.ts';
import type { EntityStatus, LegalPerson, LegalPersonsRepo, Role } from './repo.ts';
import { parseClients, parseUntil, requireWithinOwn, today } from './rules.ts';

export const STATUSES: EntityStatus[] = ['pending', 'active', 'suspended', 'deregistered'];
const GRANTABLE: Role[] = ['administrator', 'agent'];

/** Who makes a change: a signed-in person (who must manage the entity), or an operator at the CLI. */
export type Actor = { personId: string } | 'cli';

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

  const registered = (idNumber: string, field?: string) => registeredPerson(accounts, idNumber, field);

  /** The entity, when `actor` may manage it; 403 (and nothing changes) otherwise. */
  /** The entity, and the actor's own membership (none for the CLI), when the actor may manage it. */
  async function managed(actor: Actor, creditCode: string) {
    const entity = await entityFor(actor, creditCode);
    // Nobody is authorised for a claim: its people come with it only once it is proved.
    if (entity.status === 'pending') throw new AppError('legal_person.pending', 403);
    if (actor === 'cli') return { entity };
    const membership = await repo.membership(entity.id, actor.personId);
    const manager = membership && ['representative', 'administrator'].includes(membership.role);
    if (
      !manager ||
      entity.status === 'deregistered' ||
      (membership.validUntil && membership.validUntil < today())
    )
      throw new AppError('legal_person.forbidden', 403);
    return { entity, membership };
  }

  return {
    ...createRegistration({ repo, accounts, sealer, registry, registryChecksPerPerson }),

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
      const { entity, membership } = await managed(actor, creditCode);
      if (!GRANTABLE.includes(input.role as Role))
        throw new AppError('legal_person.role', 400, { field: 'role' });
      const clientIds = await parseClients(input.clients ?? '', clientExists);
      const validUntil = parseUntil(input.until ?? '');
      const person = await registered(input.idNumber);
      const current = await repo.membership(entity.id, person.id);
      if (current?.role === 'representative') throw new AppError('legal_person.representative', 409);
      // What the member holds now is replaced: it must be no wider than the granter's, like the grant.
      if (membership)
        for (const held of [{ personId: person.id, clientIds, validUntil }, ...(current ? [current] : [])])
          requireWithinOwn(membership, held);
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
      const { entity, membership } = await managed(actor, creditCode);
      const personId = 'personId' in member ? member.personId : (await registered(member.idNumber)).id;
      const current = await repo.membership(entity.id, personId);
      // The representative is who the registration names: changed through a new proved claim, never removed here.
      if (current?.role === 'representative') throw new AppError('legal_person.representative', 409);
      // Nobody removes someone who holds more than they do.
      if (membership && current) requireWithinOwn(membership, current);
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
