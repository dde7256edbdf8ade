/**
 * `yitong <command>`: operator commands over the same configuration as the server.
 *
 * @example
 *   yitong clients sync clients/
 *   echo 'a long password' | yitong citizen create --id-number 11010519491231002X --name 张三 --password-stdin
 */
import { parseArgs } from 'node:util';
import { RETENTION_YEARS, WAITING_DAYS } from '../accounts/deletion.ts';
import { verifyAuditChain } from '../audit/repo.ts';
import { peopleStorage, seedCitizens } from '../bench/seed.ts';
import { ManifestError } from '../clients/service.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { type Container, createContainer, createLogger } from '../container.ts';
import { DataDirInUseError } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { rotateSigningKey } from '../oidc/keys.ts';
import { issueInitialAccessToken } from '../oidc/registration.ts';
import { isAppError } from '../web/errors.ts';
import { translate } from '../web/messages.ts';
import { formatBytes, progressReporter } from './format.ts';

interface Command {
  usage: string;
  summary: string;
  options?: Record<string, { type: 'string' | 'boolean' }>;
  positionals?: number;
  /** Checks the arguments before the database is opened; throws UsageError. */
  check?(values: Record<string, string | boolean | undefined>): void;
  run(
    container: Container,
    values: Record<string, string | boolean | undefined>,
    positionals: string[],
  ): Promise<void>;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

const BENCH_PASSWORD = 'bench-password-2026';
const MAX_BENCH_CITIZENS = 50_000_000;

const COMMANDS: Record<string, Command> = {
  migrate: {
    usage: 'yitong migrate',
    summary: 'Apply pending database migrations (the server also applies them at start).',
    async run(container) {
      const applied = await migrate(container.database);
      print(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
    },
  },
  'keys rotate': {
    usage: 'yitong keys rotate',
    summary:
      'Add a new ES256 signing key; the old ones stay in the JWKS for verification. Restart the provider to sign with it.',
    async run(container) {
      print(`new signing key: ${await rotateSigningKey(container.database.db, container.sealer)}`);
    },
  },
  'clients sync': {
    usage: 'yitong clients sync <dir>',
    summary:
      'Validate every *.json manifest in <dir>, then register or update them all (none if any is invalid).',
    positionals: 1,
    async run(container, _values, [dir]) {
      for (const result of await container.clients.sync(dir as string)) printClient(result);
    },
  },
  'clients add': {
    usage: 'yitong clients add <file> [--secret-stdin]',
    summary:
      'Register one client manifest; prints its client_id and, when generated, its secret (shown once). --secret-stdin sets the secret from standard input instead.',
    positionals: 1,
    options: { 'secret-stdin': { type: 'boolean' } },
    async run(container, values, [file]) {
      const secret = values['secret-stdin'] ? (await readStdin()).trim() : undefined;
      printClient(await container.clients.add(file as string, { secret }));
    },
  },
  'clients rotate-secret': {
    usage: 'yitong clients rotate-secret <client_id>',
    summary: 'Give a client a new random secret, shown once; the old one stops working at once.',
    positionals: 1,
    async run(container, _values, [clientId]) {
      const secret = await container.clients.rotateSecret(clientId as string);
      if (!secret) throw new UsageError(`no client ${clientId}`);
      print(`client_secret ${secret}  (shown once: store it in the site's configuration now)`);
    },
  },
  'clients issue-token': {
    usage: 'yitong clients issue-token --department D --region-code R --scopes "openid profile" [--days 30]',
    summary:
      "Issue a department an initial access token (shown once) for dynamic client registration (RFC 7591) at the provider's registration endpoint: its sites get that department, a region within R and only those scopes.",
    options: {
      department: { type: 'string' },
      'region-code': { type: 'string' },
      scopes: { type: 'string' },
      days: { type: 'string' },
    },
    async run(container, values) {
      if (!values.department || !values['region-code'] || !values.scopes)
        throw new UsageError('--department, --region-code and --scopes are required');
      const token = await issueInitialAccessToken(
        container.provider,
        container.clientsRepo,
        {
          department: String(values.department),
          regionCode: String(values['region-code']),
          scopes: String(values.scopes),
          days: values.days === undefined ? undefined : Number(values.days),
        },
        'cli',
      );
      print(
        `initial_access_token ${token}  (shown once; register at ${container.config.issuer}${container.provider.pathFor('registration')})`,
      );
    },
  },
  'citizen create': {
    usage: 'yitong citizen create --id-number N --name NAME [--phone P] --password-stdin',
    summary: 'Create a citizen account; reads the password from standard input and prints the sub.',
    options: {
      'id-number': { type: 'string' },
      name: { type: 'string' },
      phone: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    async run(container, values) {
      if (!values['id-number'] || !values.name || !values['password-stdin'])
        throw new UsageError('--id-number, --name and --password-stdin are required');
      const password = (await readStdin()).replace(/\r?\n$/, '');
      const sub = await container.accounts.register({
        idNumber: String(values['id-number']),
        name: String(values.name),
        phone: values.phone ? String(values.phone) : undefined,
        password,
        passwordConfirm: password,
      });
      print(sub);
    },
  },
  'admin add': {
    usage: 'yitong admin add --id-number N --role admin|auditor --region-code R',
    summary:
      'Make a registered person an administrator (admin: accounts, legal persons; auditor: read-only, audit trail included) of a GB/T 2260 region: 440000 a province, 440100 a city, 440106 a county. They sign in at /admin with two factors.',
    options: { 'id-number': { type: 'string' }, role: { type: 'string' }, 'region-code': { type: 'string' } },
    async run(container, values) {
      if (!values['id-number'] || !values.role || !values['region-code'])
        throw new UsageError('--id-number, --role and --region-code are required');
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
    options: { 'id-number': { type: 'string' }, hall: { type: 'string' }, 'region-code': { type: 'string' } },
    async run(container, values) {
      if (!values['id-number'] || !values.hall || !values['region-code'])
        throw new UsageError('--id-number, --hall and --region-code are required');
      const person = await container.levels.addStaff(
        String(values['id-number']),
        String(values.hall),
        String(values['region-code']),
      );
      print(`${person.idNumberMasked} (${person.name}) is counter staff of ${String(values.hall).trim()}`);
    },
  },
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
    usage: 'yitong legal-person confirm <credit-code>',
    summary:
      'Confirm an entity registered online by someone other than a verified representative (pending → active).',
    positionals: 1,
    async run(container, _values, [code]) {
      const entity = await container.legalPersons.confirm(code as string);
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
  'accounts purge': {
    usage: 'yitong accounts purge',
    summary: `Delete the accounts whose deletion was asked for ${WAITING_DAYS} days ago or more (run it daily), and drop the fingerprints kept past ${RETENTION_YEARS} years.`,
    async run(container) {
      const result = await container.deletion.purgeDue(new Date(), (done, total) =>
        process.stderr.write(`\r${done}/${total} accounts${done === total ? '\n' : ''}`),
      );
      for (const { personId, entities } of result.kept)
        print(
          `kept ${personId}: the only manager of ${entities}; they must authorise another administrator first`,
        );
      print(
        `${result.deleted} accounts deleted, ${result.kept.length} kept, ${result.fingerprintsDropped} expired fingerprints dropped`,
      );
    },
  },
  'audit verify': {
    usage: 'yitong audit verify',
    summary:
      'Walk the hash-chained audit trail from its first row; report the first row that was altered, removed or inserted out of turn (exit code 1).',
    async run(container) {
      const check = await verifyAuditChain(container.database.db, (rows) =>
        process.stderr.write(`\r${rows} rows checked`),
      );
      if (check.broken) {
        process.stderr.write('\n');
        throw new AuditChainError(
          `the audit trail is broken at row ${check.broken.seq}: ${check.broken.reason === 'hash' ? 'its contents do not match its hash (altered)' : 'it does not follow the row before it (a row was removed or inserted)'}; ${check.rows} rows before it are intact`,
        );
      }
      print(`${check.rows} rows verified: the audit trail is intact`);
    },
  },
  'bench seed': {
    usage: 'yitong bench seed --citizens N [--password-stdin]',
    summary: `Load N synthetic citizens (sub bench-<i>, valid identity numbers) for benchmarks; resumable, a rerun skips those present. Password ${BENCH_PASSWORD} unless --password-stdin.`,
    options: { citizens: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    check: (values) => void benchCitizens(values),
    async run(container, values) {
      const citizens = benchCitizens(values);
      const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : BENCH_PASSWORD;
      if (!password) throw new UsageError('the password on standard input is empty');
      process.stderr.write(
        `warning: adding synthetic accounts for benchmarks to the ${container.database.kind} database; remove them with DELETE FROM people WHERE id LIKE 'bench-%'\n`,
      );
      const started = performance.now();
      const { inserted, skipped } = await seedCitizens(
        { db: container.database.db, sealer: container.sealer },
        { citizens, password, onProgress: progressReporter(process.stderr) },
      );
      const seconds = (performance.now() - started) / 1000;
      print(
        `${inserted} inserted, ${skipped} skipped in ${seconds.toFixed(1)} s (${Math.round(inserted / seconds)} rows/s inserted)`,
      );
      const storage = await peopleStorage(container.database.db);
      // Below 10 k rows the fixed overhead of pages and index roots makes a per-million figure meaningless.
      const perMillion = (bytes: number) => formatBytes((bytes / storage.rows) * 1e6);
      print(
        `people: ${storage.rows} rows, table ${formatBytes(storage.tableBytes)}, indexes ${formatBytes(storage.indexBytes)}${storage.rows >= 10_000 ? ` (per million people: table ${perMillion(storage.tableBytes)}, indexes ${perMillion(storage.indexBytes)})` : ''}`,
      );
    },
  },
};

function benchCitizens(values: Record<string, string | boolean | undefined>): number {
  const raw = String(values.citizens ?? '').replaceAll('_', '');
  const citizens = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(citizens >= 1 && citizens <= MAX_BENCH_CITIZENS))
    throw new UsageError(
      `--citizens must be a whole number from 1 to ${MAX_BENCH_CITIZENS} (got "${values.citizens ?? ''}")\nusage: yitong bench seed --citizens N [--password-stdin]`,
    );
  return citizens;
}

class UsageError extends Error {}
class AuditChainError extends Error {}

function printClient(result: { file: string; clientId: string; generatedSecret?: string }) {
  print(`${result.file}: client_id ${result.clientId}`);
  if (result.generatedSecret)
    print(
      `  client_secret ${result.generatedSecret}  (shown once: store it in the site's configuration now)`,
    );
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('pipe the value on standard input, e.g. `printf %s "$PASSWORD" | yitong …`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `Yitong (一通) command line\n\nUsage:\n${lines.join('\n')}\n\nEvery command reads the same environment as the server (see README: Configuration).\n`;
}

export async function runCli(argv: string[]): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((candidate) => COMMANDS[candidate]);
  if (!name) {
    const wantsHelp = argv.length === 0 || ['--help', '-h', 'help'].includes(argv[0] as string);
    (wantsHelp ? process.stdout : process.stderr).write(
      wantsHelp ? help() : `unknown command: ${argv.join(' ')}\n\n${help()}`,
    );
    return wantsHelp ? 0 : 2;
  }
  const command = COMMANDS[name] as Command;
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    print(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let container: Container | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== (command.positionals ?? 0)) throw new UsageError(`usage: ${command.usage}`);
    command.check?.(values);
    const config = loadConfig();
    container = await createContainer(config, createLogger({ logLevel: 'warn' }));
    await command.run(container, values, positionals);
    return 0;
  } catch (error) {
    process.stderr.write(`${describe(error)}\n`);
    return error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1;
  } finally {
    await container?.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof AuditChainError) return `error: ${error.message}`;
  if (error instanceof ConfigError || error instanceof DataDirInUseError) return `error: ${error.message}`;
  if (isAppError(error))
    return `error: ${translate('en', error.code, error.params)} (${translate('zh-CN', error.code, error.params)})`;
  if (error instanceof ManifestError) return `invalid manifest ${error.message}`;
  if (error instanceof AggregateError) return error.errors.map(describe).join('\n');
  return `error: ${(error as Error).message}`;
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
