/** `yitong legal-person …`: enterprises and institutions, and who may act for them. */
import { ENTITY_TYPES } from '../legal-persons/registration.ts';
import type { EntityStatus, Role } from '../legal-persons/repo.ts';
import { creditCode, dayNotPast, idNumber, oneOf } from './argument-formats.ts';
import { type Commands, print } from './command.ts';

const GRANTABLE = ['agent', 'administrator'] satisfies Role[];
const STATUSES = ['active', 'suspended', 'deregistered'] satisfies EntityStatus[];
/** What the operator checked: a word or two at least, kept in the audit trail. */
const evidence = (value: string) =>
  value.trim().length < 4 ? 'say which documents were checked (at least 4 characters)' : undefined;

export const legalPersonCommands: Commands = {
  'legal-person create': {
    usage: 'yitong legal-person create --credit-code C --name NAME --representative-id-number N [--type T]',
    summary:
      'Register an enterprise or institution (active at once) with its legal representative, a registered citizen who can then authorise others. --type: enterprise (default), institution, social_organisation, other.',
    options: {
      'credit-code': { type: 'string', required: true, format: creditCode },
      name: { type: 'string', required: true },
      'representative-id-number': { type: 'string', required: true, format: idNumber },
      type: { type: 'string', format: oneOf(ENTITY_TYPES) },
    },
    async run(container, values) {
      const entity = await container.legalPersons.createByOperator({
        creditCode: String(values['credit-code']),
        name: String(values.name),
        type: values.type ? String(values.type) : undefined,
        representativeIdNumber: String(values['representative-id-number']),
      });
      print(`${entity.creditCode} ${entity.name}: ${entity.status}, sub ${entity.id}`);
    },
  },
  'legal-person confirm': {
    usage: 'yitong legal-person confirm <claim-id> --evidence TEXT',
    summary:
      'Confirm a claim to represent an entity (its id is listed by the console and GET /admin/api/legal-persons), after checking the evidence: the entity becomes active and every other claim on its credit code ends.',
    positionals: [{ name: '<claim-id>' }],
    options: { evidence: { type: 'string', required: true, format: evidence } },
    async run(container, values, [claimId]) {
      const entity = await container.legalPersons.confirmClaim(claimId as string, {
        actor: 'cli',
        via: 'cli',
        evidence: String(values.evidence).trim(),
      });
      print(`${entity.creditCode} ${entity.name}: ${entity.status}`);
    },
  },
  'legal-person grant': {
    usage:
      'yitong legal-person grant <credit-code> --id-number N --role agent|administrator [--clients a,b] [--until YYYY-MM-DD]',
    summary:
      'Authorise a registered citizen for the entity, optionally only at some sites and until a day (inclusive).',
    positionals: [{ name: '<credit-code>', format: creditCode }],
    options: {
      'id-number': { type: 'string', required: true, format: idNumber },
      role: { type: 'string', required: true, format: oneOf(GRANTABLE) },
      clients: { type: 'string' },
      until: { type: 'string', format: dayNotPast },
    },
    async run(container, values, [code]) {
      const { entity, person } = await container.legalPersons.grant('cli', code as string, {
        idNumber: String(values['id-number']),
        role: String(values.role),
        clients: values.clients ? String(values.clients) : '',
        until: values.until ? String(values.until) : '',
      });
      print(`${person.idNumberMasked} (${person.name}) is ${String(values.role)} of ${entity.name}`);
    },
  },
  'legal-person revoke': {
    usage: 'yitong legal-person revoke <credit-code> --id-number N',
    summary: "End a person's authorisation for the entity (never its last administrator's).",
    positionals: [{ name: '<credit-code>', format: creditCode }],
    options: { 'id-number': { type: 'string', required: true, format: idNumber } },
    async run(container, values, [code]) {
      const entity = await container.legalPersons.revoke('cli', code as string, {
        idNumber: String(values['id-number']),
      });
      print(`revoked for ${entity.name}`);
    },
  },
  'legal-person status': {
    usage: 'yitong legal-person status <credit-code> active|suspended|deregistered',
    summary: 'Suspend, deregister or reactivate an entity: its people cannot act for it unless it is active.',
    positionals: [
      { name: '<credit-code>', format: creditCode },
      { name: '<status>', format: oneOf(STATUSES) },
    ],
    async run(container, _values, [code, status]) {
      const entity = await container.legalPersons.setStatus(code as string, status as string);
      print(`${entity.creditCode} ${entity.name}: ${entity.status}`);
    },
  },
};
