/** `yitong clients …`: departmental sites from manifests, their secrets, registration tokens. */

import type { RegisteredClient } from '../clients/service.ts';
import { AppError } from '../errors.ts';
import { issueInitialAccessToken } from '../oidc/registration.ts';
import {
  department,
  readableDirectory,
  readableFile,
  regionCode,
  registrationScopes,
  toWholeNumber,
  wholeNumber,
} from './argument-formats.ts';
import { type Commands, print, readStdin } from './command.ts';

export const clientCommands: Commands = {
  'clients sync': {
    usage: 'yitong clients sync <dir>',
    summary:
      'Validate every *.json manifest in <dir>, then register or update them all (none if any is invalid).',
    positionals: [{ name: '<dir>', format: readableDirectory }],
    async run(container, _values, [dir]) {
      const results = await container.clients.sync(dir as string);
      for (const result of results) printClient(result);
      if (!results.length) print(`no *.json manifest in ${dir}: nothing registered`);
    },
  },
  'clients add': {
    usage: 'yitong clients add <file> [--secret-stdin]',
    summary:
      'Register one client manifest; prints its client_id and, when generated, its secret (shown once). --secret-stdin sets the secret from standard input instead.',
    positionals: [{ name: '<file>', format: readableFile }],
    options: { 'secret-stdin': { type: 'boolean' } },
    async run(container, values, [file]) {
      const secret = values['secret-stdin'] ? (await readStdin()).trim() : undefined;
      printClient(await container.clients.add(file as string, { secret }));
    },
  },
  'clients rotate-secret': {
    usage: 'yitong clients rotate-secret <client_id> [--end-old-now]',
    summary:
      'Give a client a new random secret, shown once; the old one keeps working for CLIENT_SECRET_GRACE_SECONDS (24 h), or stops at once with --end-old-now (it leaked).',
    positionals: [{ name: '<client_id>' }],
    options: { 'end-old-now': { type: 'boolean' } },
    async run(container, values, [clientId]) {
      const endOldNow = Boolean(values['end-old-now']);
      const rotated = await container.clients.rotateSecret(clientId as string, undefined, endOldNow);
      // A lookup that found nothing, not a malformed argument: exit code 1.
      if (!rotated) throw new AppError('client.not_found', 404, { params: { client: clientId as string } });
      print(`client_secret ${rotated.secret}  (shown once: store it in the site's configuration now)`);
      print(
        endOldNow
          ? 'the old secret stopped working'
          : `the old secret works until ${rotated.oldValidUntil.toISOString()}`,
      );
    },
  },
  'clients issue-token': {
    usage: 'yitong clients issue-token --department D --region-code R --scopes "openid profile" [--days 30]',
    summary:
      "Issue a department an initial access token (shown once) for dynamic client registration (RFC 7591) at the provider's registration endpoint: its sites get that department, a region within R and only those scopes.",
    options: {
      department: { type: 'string', required: true, format: department },
      'region-code': { type: 'string', required: true, format: regionCode },
      scopes: { type: 'string', required: true, format: registrationScopes },
      days: { type: 'string', format: wholeNumber(1, 90) },
    },
    async run(container, values) {
      const token = await issueInitialAccessToken(
        container.provider,
        container.clientsRepo,
        {
          department: String(values.department),
          regionCode: String(values['region-code']),
          scopes: String(values.scopes),
          days: values.days === undefined ? undefined : toWholeNumber(String(values.days)),
        },
        'cli',
      );
      print(
        `initial_access_token ${token}  (shown once; register at ${container.config.issuer}${container.provider.pathFor('registration')})`,
      );
    },
  },
};

function printClient(result: RegisteredClient) {
  print(`${result.file}: client_id ${result.clientId}`);
  if (result.generatedSecret)
    print(
      `  client_secret ${result.generatedSecret}  (shown once: store it in the site's configuration now)`,
    );
  if (result.replacedSecret)
    print(
      '  client_secret replaced: the old one stopped working (`yitong clients rotate-secret` keeps it for a grace period)',
    );
}
