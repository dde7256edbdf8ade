/**
 * Acting for an entity at a site: the person chooses one of the entities they are a member of
 * (when their membership covers the site, is current and the entity is active); the choice is
 * remembered per site and re-checked every time it is used. Part of LegalPersonsService.
 *
 * @example
 *   const choices = await legalPersons.choicesAt(colleagueId, 'tax'); // what the colleague may act for there
 *   await legalPersons.choose(colleagueId, 'tax', choices[0].id);
 *   const acting = await legalPersons.currentAt(colleagueId, 'tax'); // undefined once it no longer holds
 */
import { AppError } from '../errors.ts';
import type { LegalPerson, LegalPersonsRepo, Membership } from './repo.ts';
import { type Block, blockOf } from './rules.ts';

export interface Choice extends LegalPerson, Membership {
  /** Why it cannot be chosen here, when it cannot. */
  blocked?: Block | undefined;
}

export function createActingFor(repo: LegalPersonsRepo) {
  /** Everything the person holds a membership of, marked with why it cannot be chosen at this site. */
  async function choicesAt(personId: string, clientId: string): Promise<Choice[]> {
    return (await repo.listForPerson(personId)).map((row) => ({
      ...row,
      blocked: blockOf(row, row, clientId),
    }));
  }

  return {
    choicesAt,

    /** Remembers the entity the person acts for at this site; refused unless it can be chosen there. */
    async choose(personId: string, clientId: string, entityId: string): Promise<void> {
      const choice = (await choicesAt(personId, clientId)).find((c) => c.id === entityId);
      if (!choice || choice.blocked) throw new AppError('legal_person.cannot_choose', 403);
      await repo.saveChoice(personId, clientId, entityId);
    },

    /** The entity the person currently acts for at this site, if the remembered choice still holds. */
    async currentAt(personId: string, clientId: string) {
      const choice = await repo.findChoice(personId, clientId);
      if (!choice?.role) return undefined;
      const membership = {
        personId,
        role: choice.role,
        clientIds: choice.clientIds,
        validUntil: choice.validUntil,
      };
      return blockOf(choice, membership, clientId) ? undefined : { ...choice, role: choice.role };
    },

    recordUse: (entityId: string, clientId: string, personId: string) =>
      repo.recordUse(entityId, clientId, personId),
  };
}
