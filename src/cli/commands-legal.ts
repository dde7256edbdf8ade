/** `yitong legal-person …`: enterprises and institutions, and who may act for them. */
import { type Commands, print, UsageError } from './command.ts';

export const legalPersonCommands: Commands = {
  'legal-person create': {
    usage: 'yitong legal-person create --credit-code C --name NAME --representative-id-number N [--type T]',
    summary:
      'Register an enterprise or institution (active at once) with its legal representative, a registered citizen who can then authorise others. --type: enterprise (default), institution, social_organisation, other.',
    options: {
      'credit-code': { type: 'string' },
      name: { type: 'string' },
      'representative-id-number': { type: 'string' },
      type: { type: 'string' },
    },
    async run(container, values) {
      if (!values['credit-code'] || !values.name || !values['representative-id-number'])
        throw new UsageError('--credit-code, --name and --representative-id-number are required');
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
    positionals: 1,
    options: { evidence: { type: 'string' } },
    async run(container, values, [claimId]) {
      const evidence = String(values.evidence ?? '').trim();
      if (evidence.length < 4) throw new UsageError('--evidence must say which documents were checked');
      const entity = await container.legalPersons.confirmClaim(claimId as string, {
        actor: 'cli',
        via: 'cli',
        evidence,
      });
      print(`${entity.creditCode} ${entity.name}: ${entity.status}`);
    },
  },
  'legal-person grant': {
    usage:
      'yitong legal-person grant <credit-code> --id-number N --role agent|administrator [--clients a,b] [--until YYYY-MM-DD]',
    summary:
      'Authorise a registered citizen for the entity, optionally only at some sites and until a day (inclusive).',
    positionals: 1,
    options: {
      'id-number': { type: 'string' },
      role: { type: 'string' },
      clients: { type: 'string' },
      until: { type: 'string' },
    },
    async run(container, values, [code]) {
      if (!values['id-number'] || !values.role) throw new UsageError('--id-number and --role are required');
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
    positionals: 1,
    options: { 'id-number': { type: 'string' } },
    async run(container, values, [code]) {
      if (!values['id-number']) throw new UsageError('--id-number is required');
      const entity = await container.legalPersons.revoke('cli', code as string, {
        idNumber: String(values['id-number']),
      });
      print(`revoked for ${entity.name}`);
    },
  },
  'legal-person status': {
    usage: 'yitong legal-person status <credit-code> active|suspended|deregistered',
    summary: 'Suspend, deregister or reactivate an entity: its people cannot act for it unless it is active.',
    positionals: 2,
    async run(container, _values, [code, status]) {
      const entity = await container.legalPersons.setStatus(code as string, status as string);
      print(`${entity.creditCode} ${entity.name}: ${entity.status}`);
    },
  },
};
