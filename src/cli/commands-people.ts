/** People: citizens, administrators, counter staff, and deleting the accounts whose deletion is due. */
import { RETENTION_YEARS, WAITING_DAYS } from '../accounts/deletion.ts';
import type { AdminRole } from '../admin/repo.ts';
import { AppError } from '../errors.ts';
import { GRANT_SECONDS } from '../oidc/lifetimes.ts';
import { idNumber, oneOf, phone, regionCode } from './argument-formats.ts';
import { type Commands, print, readStdin } from './command.ts';

const ADMIN_ROLES = ['admin', 'auditor'] satisfies AdminRole[];

export const peopleCommands: Commands = {
  'citizen create': {
    usage: 'yitong citizen create --id-number N --name NAME [--phone P] --password-stdin',
    summary: 'Create a citizen account; reads the password from standard input and prints the sub.',
    options: {
      'id-number': { type: 'string', required: true, format: idNumber },
      name: { type: 'string', required: true },
      phone: { type: 'string', format: phone },
      'password-stdin': { type: 'boolean', required: true },
    },
    async run(container, values) {
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const sub = await container.accounts.register({
        idNumber: String(values['id-number']),
        name: String(values.name),
        phone: values.phone ? String(values.phone) : undefined,
        password,
        passwordConfirm: password,
      });
      // The operator may know what the public registration page never says.
      if (!sub) throw new AppError('account.exists', 409);
      print(sub);
    },
  },
  'admin add': {
    usage: 'yitong admin add --id-number N --role admin|auditor --region-code R',
    summary:
      'Make a registered person an administrator (admin: accounts, legal persons; auditor: read-only, audit trail included) of a GB/T 2260 region: 440000 a province, 440100 a city, 440106 a county. They sign in at /admin with two factors.',
    options: {
      'id-number': { type: 'string', required: true, format: idNumber },
      role: { type: 'string', required: true, format: oneOf(ADMIN_ROLES) },
      'region-code': { type: 'string', required: true, format: regionCode },
    },
    async run(container, values) {
      const person = await container.admin.addAdmin(
        String(values['id-number']),
        String(values.role),
        String(values['region-code']),
      );
      print(
        `${person.idNumberMasked} (${person.name}) is ${String(values.role)} of ${String(values['region-code'])}`,
      );
    },
  },
  'staff add': {
    usage: 'yitong staff add --id-number N --hall "HALL" --region-code R',
    summary:
      'Make a registered person counter staff of a service hall: they can confirm people face to face (identity level 3) at /staff, signed in with two factors.',
    options: {
      'id-number': { type: 'string', required: true, format: idNumber },
      hall: { type: 'string', required: true },
      'region-code': { type: 'string', required: true, format: regionCode },
    },
    async run(container, values) {
      const person = await container.levels.addStaff(
        String(values['id-number']),
        String(values.hall),
        String(values['region-code']),
      );
      print(`${person.idNumberMasked} (${person.name}) is counter staff of ${String(values.hall).trim()}`);
    },
  },
  'accounts purge': {
    usage: 'yitong accounts purge',
    summary: `Delete the accounts whose deletion was asked for ${WAITING_DAYS} days ago or more (run it daily), drop the fingerprints kept past ${RETENTION_YEARS} years, the records of sign-in sessions over for a day and of site grants expired, the claims to entities that lapsed, and verified values kept past their type's retention.`,
    async run(container) {
      const result = await container.deletion.purgeDue(new Date(), (done, total) =>
        process.stderr.write(`\r${done}/${total} accounts${done === total ? '\n' : ''}`),
      );
      for (const { personId, entities } of result.kept)
        print(
          `kept ${personId}: the only manager of ${entities}; they must authorise another administrator first`,
        );
      const now = new Date();
      const sessions = await container.sessions.forgetOld(now);
      const grants = await container.accountsRepo.forgetSiteGrants(
        new Date(now.getTime() - GRANT_SECONDS * 1000),
      );
      const claims = await container.legalPersons.deleteLapsedClaims();
      const attributes = await container.attributesRepo.forgetExpired(
        new Map([...container.catalogue.values()].map((type) => [type.code, type.retention_days])),
        now,
      );
      print(
        `${result.deleted} accounts deleted, ${result.kept.length} kept, ${result.fingerprintsDropped} expired fingerprints dropped, ${sessions} old session records, ${grants} expired grant records, ${claims} lapsed claims and ${attributes} verified values past their retention dropped`,
      );
    },
  },
};
