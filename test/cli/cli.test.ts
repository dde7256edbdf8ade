/** The `yitong` command line, run as a person would run it: a separate process, same environment as the server. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/database.ts';
import { createPostgresDatabase, POSTGRES_URL } from '../helpers/databases.ts';
import { newCitizen, newCreditCode } from '../helpers/people.ts';
import { UNREACHABLE_NATIONAL, upstreamsDir } from '../helpers/upstream-manifest.ts';

function yitong(args: string[], env: Record<string, string>, input?: string) {
  return spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
    // A loaded machine can take longer than production's 2 s to open a connection.
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', DATABASE_CONNECT_TIMEOUT_MS: '30000', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const env = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'yitong-cli-')) });

test('--help lists every command, and every command has its own --help', (t) => {
  const help = yitong(['--help'], env());
  t.is(help.status, 0);
  for (const command of [
    'migrate',
    'keys rotate',
    'keys list',
    'keys retire',
    'clients sync',
    'clients add',
    'clients rotate-secret',
    'citizen create',
    'accounts purge',
    'bench seed',
    'legal-person create',
    'legal-person status',
  ]) {
    t.true(help.stdout.includes(`yitong ${command}`), command);
    const own = yitong([...command.split(' '), '--help'], env());
    t.is(own.status, 0);
    t.true(own.stdout.startsWith(`yitong ${command}`));
  }
  const unknown = yitong(['frobnicate'], env());
  t.is(unknown.status, 2);
  t.true(unknown.stderr.startsWith('unknown command: frobnicate'));
});

test('<group> --help lists the group; <command> --help explains one, wrapped for a terminal', (t) => {
  for (const [group, commands] of [
    ['clients', ['sync', 'add', 'rotate-secret', 'issue-token']],
    ['accounts', ['purge']],
    ['legal-person', ['create', 'confirm', 'grant', 'revoke', 'status']],
  ] as const) {
    const help = yitong([group, '--help'], env());
    t.is(help.status, 0, help.stderr);
    for (const command of commands) t.regex(help.stdout, new RegExp(`^  yitong ${group} ${command}\\b`, 'm'));
    t.notRegex(help.stdout, /yitong (migrate|citizen)/, 'only the group');
  }
  const purge = yitong(['accounts', 'purge', '--help'], env());
  t.is(purge.status, 0);
  t.regex(
    purge.stdout,
    /^yitong accounts purge\n\nDelete the accounts whose deletion was asked for 15 days ago/,
  );
  t.true(
    purge.stdout.split('\n').every((line) => line.length <= 80),
    'no line wider than a terminal',
  );
  const bare = yitong(['clients'], env());
  t.is(bare.status, 2);
  t.regex(bare.stderr, /^yitong clients needs a command\n[\s\S]*yitong clients sync <dir>/);
});

test('arguments are checked before the database is opened: a usage error wins over an unreachable one', (t) => {
  const unreachable = { ...env(), DATABASE_URL: 'postgres://u:secretpw@127.0.0.1:1/x' };
  const missing = yitong(['admin', 'add', '--id-number', newCitizen().idNumber], unreachable);
  t.is(missing.status, 2);
  t.is(
    missing.stderr,
    '--role and --region-code are required\nusage: yitong admin add --id-number N --role admin|auditor --region-code R\n',
  );
  const wrong = yitong(
    ['admin', 'add', '--id-number', newCitizen().idNumber, '--role', 'root', '--region-code', '440100'],
    unreachable,
  );
  t.is(wrong.status, 2);
  t.regex(wrong.stderr, /^--role: must be admin or auditor \(got "root"\)\nusage: yitong admin add/);

  const reached = yitong(['migrate'], unreachable);
  t.is(reached.status, 1);
  t.is(
    reached.stderr,
    'error: cannot reach the database at 127.0.0.1:1: connection refused; check DATABASE_URL\n',
  );
  t.false(`${reached.stdout}${reached.stderr}`.includes('secretpw'), 'never the password');

  const noSuchDatabase = new URL(POSTGRES_URL);
  noSuchDatabase.pathname = '/yitong_no_such_database';
  const refused = yitong(['migrate'], { ...env(), DATABASE_URL: noSuchDatabase.href });
  t.is(refused.status, 1);
  t.regex(
    refused.stderr,
    /^error: cannot reach the database at [^:]+:\d+: database "yitong_no_such_database" does not exist; check DATABASE_URL\n$/,
  );
});

test('with the embedded database in use (the server running), a command says so and what to do', async (t) => {
  const e = env();
  // This test's process stands in for the running server: it holds the directory's lock.
  const server = await openDatabase({ databaseUrl: undefined, pgliteDir: join(e.DATA_DIR, 'pglite') });
  t.teardown(() => server.close());

  const usage = yitong(['staff', 'add', '--hall', '天河区政务服务中心'], e);
  t.is(usage.status, 2, 'the arguments are checked before the locked database is tried');
  t.regex(usage.stderr, /^--id-number and --region-code are required\nusage: yitong staff add/);

  const blocked = yitong(['keys', 'rotate'], e);
  t.is(blocked.status, 1);
  t.true(
    blocked.stderr.startsWith(
      `error: the embedded database in DATA_DIR ${e.DATA_DIR} is in use by process ${process.pid} on `,
    ),
    blocked.stderr,
  );
  t.regex(blocked.stderr, /Stop the server first, run the command, then start the server again/);
  t.regex(blocked.stderr, /set DATABASE_URL, for the server and the commands alike/);
});

test('a missing or unreadable file is named, never a raw ENOENT', (t) => {
  const e = env();
  const noDir = yitong(['clients', 'sync', 'no-such-dir'], e);
  t.is(noDir.status, 2);
  t.is(noDir.stderr, '<dir>: file not found: no-such-dir\nusage: yitong clients sync <dir>\n');
  const noFile = yitong(['clients', 'add', join(e.DATA_DIR, 'site.json')], e);
  t.is(noFile.status, 2);
  t.regex(noFile.stderr, /^<file>: file not found: .*site\.json\n/);
  const directory = yitong(['clients', 'add', e.DATA_DIR], e);
  t.is(directory.status, 2);
  t.regex(directory.stderr, /^<file>: cannot read .*: it is a directory, not a file\n/);
  for (const result of [noDir, noFile, directory]) t.false(result.stderr.includes('ENOENT'));
});

test('migrate, citizen create, keys rotate and clients add work on the embedded database', (t) => {
  const e = env();
  const migrations = readdirSync('migrations').filter((name) => name.endsWith('.sql'));
  const migrated = yitong(['migrate'], e);
  t.is(migrated.status, 0, migrated.stderr);
  t.is(
    migrated.stdout,
    `applied ${migrations.length} migrations:\n${migrations.map((name) => `  ${name}\n`).join('')}`,
    'a new database: what was applied, never "up to date"',
  );
  t.is(yitong(['migrate'], e).stdout, 'the database is up to date: no migration was pending\n');

  const person = newCitizen();
  const created = yitong(
    ['citizen', 'create', '--id-number', person.idNumber, '--name', person.name, '--password-stdin'],
    e,
    `${person.password}\n`,
  );
  t.is(created.status, 0, created.stderr);
  t.regex(created.stdout.trim(), /^[\w-]{22}$/, 'prints the sub');

  const duplicate = yitong(
    ['citizen', 'create', '--id-number', person.idNumber, '--name', person.name, '--password-stdin'],
    e,
    person.password,
  );
  t.is(duplicate.status, 1);
  t.regex(duplicate.stderr, /already registered/);

  const badNumber = yitong(
    ['citizen', 'create', '--id-number', '110105194912310021', '--name', '张三', '--password-stdin'],
    e,
    'long enough password',
  );
  t.is(badNumber.status, 2);
  t.regex(badNumber.stderr, /^--id-number: The check character does not match/);
  const badName = yitong(
    ['citizen', 'create', '--id-number', newCitizen().idNumber, '--name', 'A1', '--password-stdin'],
    e,
    'long enough password',
  );
  t.is(badName.status, 2, 'a name the service finds malformed: the argument’s fault');

  t.regex(
    yitong(['keys', 'rotate'], e).stdout,
    /^new signing key ES256: [\w-]{43}\nnew signing key RS256: [\w-]{43}\nnew signing key PS256: [\w-]{43}\nin the JWKS now \(PS256 while an enabled site signs PS256\); they begin signing at \d{4}-\d\d-\d\dT[\d:.]+Z \(in 24 h\), on every node\n/,
    'a key of each kind, and when they begin signing',
  );

  const manifest = join(e.DATA_DIR, 'site.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      client_name: '公积金',
      department: '住房公积金中心',
      region_code: '440100',
      redirect_uris: ['https://gjj.example.gov.cn/cb'],
      scope: 'openid profile',
    }),
  );
  const added = yitong(['clients', 'add', manifest], e);
  t.is(added.status, 0, added.stderr);
  t.regex(added.stdout, /client_id site\n {2}client_secret [\w-]{43} {2}\(shown once/);
  const rotated = yitong(['clients', 'rotate-secret', 'site'], e);
  t.regex(rotated.stdout, /^client_secret [\w-]{43}/);
  // A secret given on an update replaces the stored one at once: said so; the same one again is no news.
  const given = 's'.repeat(43);
  const replaced = yitong(['clients', 'add', manifest, '--secret-stdin'], e, given);
  t.regex(replaced.stdout, /client_id site\n {2}client_secret replaced: the old one stopped working/);
  t.is(
    yitong(['clients', 'add', manifest, '--secret-stdin'], e, given).stdout,
    `${manifest}: client_id site\n`,
  );
  const empty = mkdtempSync(join(tmpdir(), 'yitong-empty-'));
  t.is(yitong(['clients', 'sync', empty], e).stdout, `no *.json manifest in ${empty}: nothing registered\n`);

  const hall = '天河区政务服务中心';
  const staff = yitong(
    ['staff', 'add', '--id-number', person.idNumber, '--hall', hall, '--region-code', '440106'],
    e,
  );
  t.is(staff.status, 0, staff.stderr);
  t.is(
    staff.stdout,
    `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(-4)} (${person.name}) is counter staff of ${hall}\n`,
  );
  const unknown = yitong(
    ['staff', 'add', '--id-number', newCitizen().idNumber, '--hall', hall, '--region-code', '440106'],
    e,
  );
  t.is(unknown.status, 1);
  t.regex(unknown.stderr, /No account is registered with this identity number/);
  const badRegion = yitong(
    ['staff', 'add', '--id-number', person.idNumber, '--hall', hall, '--region-code', '4401'],
    e,
  );
  t.is(badRegion.status, 2);
  t.regex(badRegion.stderr, /^--region-code: The division code must be a valid 6-digit GB\/T 2260 code/);
});

test('legal-person create, grant, revoke, status and confirm, with their refusals (never the representative)', (t) => {
  const e = env();
  const [representative, colleague] = [newCitizen(), newCitizen()];
  for (const person of [representative, colleague]) {
    const created = yitong(
      ['citizen', 'create', '--id-number', person.idNumber, '--name', person.name, '--password-stdin'],
      e,
      person.password,
    );
    t.is(created.status, 0, created.stderr);
  }
  const code = newCreditCode();
  const created = yitong(
    [
      'legal-person',
      'create',
      '--credit-code',
      code,
      '--name',
      '测试有限公司',
      '--representative-id-number',
      representative.idNumber,
    ],
    e,
  );
  t.is(created.status, 0, created.stderr);
  t.regex(created.stdout, new RegExp(`^${code} 测试有限公司: active, sub [\\w-]{22}\n$`));
  const duplicate = yitong(
    [
      'legal-person',
      'create',
      '--credit-code',
      code,
      '--name',
      '又一个',
      '--representative-id-number',
      representative.idNumber,
    ],
    e,
  );
  t.is(duplicate.status, 1);
  t.regex(duplicate.stderr, /registered already/);

  const granted = yitong(
    [
      'legal-person',
      'grant',
      code,
      '--id-number',
      colleague.idNumber,
      '--role',
      'agent',
      '--until',
      '2099-01-31',
    ],
    e,
  );
  t.is(granted.status, 0, granted.stderr);
  t.regex(granted.stdout, /is agent of 测试有限公司/);
  const badUntil = yitong(
    [
      'legal-person',
      'grant',
      code,
      '--id-number',
      colleague.idNumber,
      '--role',
      'agent',
      '--until',
      '31/01/2099',
    ],
    e,
  );
  t.is(badUntil.status, 2);
  t.regex(badUntil.stderr, /^--until: Write the end date as YYYY-MM-DD/);
  t.is(yitong(['legal-person', 'revoke', code, '--id-number', colleague.idNumber], e).status, 0);
  const last = yitong(['legal-person', 'revoke', code, '--id-number', representative.idNumber], e);
  t.is(last.status, 1);
  t.regex(last.stderr, /legal representative cannot be removed/);

  t.regex(yitong(['legal-person', 'status', code, 'suspended'], e).stdout, /: suspended\n$/);
  const badStatus = yitong(['legal-person', 'status', code, 'closed'], e);
  t.is(badStatus.status, 2);
  t.regex(badStatus.stderr, /^<status>: must be active, suspended or deregistered \(got "closed"\)/);
  const noEvidence = yitong(['legal-person', 'confirm', 'some-claim-id'], e);
  t.is(noEvidence.status, 2);
  t.regex(noEvidence.stderr, /--evidence/);
  const noClaim = yitong(['legal-person', 'confirm', '12345', '--evidence', '营业执照原件'], e);
  t.is(noClaim.status, 1);
  t.regex(noClaim.stderr, /^error: There is no claim with this id/);
  t.notRegex(noClaim.stderr, /no longer waiting/, 'it never was');
  const malformed = yitong(['legal-person', 'status', '91350100M000100Y44', 'active'], e);
  t.is(malformed.status, 2);
  t.regex(malformed.stderr, /^<credit-code>: The check character of the credit code is wrong/);
});

test('bad arguments and bad manifests are explained, with a non-zero exit code', (t) => {
  const e = env();
  const missing = yitong(['citizen', 'create', '--name', '张三'], e);
  t.is(missing.status, 2);
  t.is(
    missing.stderr,
    '--id-number and --password-stdin are required\nusage: yitong citizen create --id-number N --name NAME [--phone P] --password-stdin\n',
  );

  t.is(yitong(['staff', 'add', '--hall', 'x'], e).status, 2);

  const unknownOption = yitong(['keys', 'rotate', '--force'], e);
  t.is(unknownOption.status, 2);
  t.regex(unknownOption.stderr, /^Unknown option '--force'.*\nusage: yitong keys rotate \[--now\]\n$/);
  const noKid = yitong(['keys', 'retire'], e);
  t.is(noKid.status, 2);
  t.is(noKid.stderr, '<kid> is required\nusage: yitong keys retire <kid>\n');
  const badKid = yitong(['keys', 'retire', 'ES256'], e);
  t.is(badKid.status, 2);
  t.regex(
    badKid.stderr,
    /^<kid>: must be a kid as `yitong keys list` prints it: 43 letters, digits, - and _ \(got "ES256"\)\n/,
  );
  const twoKids = yitong(['keys', 'retire', 'A'.repeat(43), 'B'.repeat(43)], e);
  t.is(twoKids.status, 2);
  t.regex(twoKids.stderr, /^unexpected argument: B{43}\n/);

  const bad = join(e.DATA_DIR, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      client_name: 'x',
      department: 'y',
      region_code: '12',
      redirect_uris: [],
      scope: 'openid',
    }),
  );
  const refused = yitong(['clients', 'add', bad], e);
  t.is(refused.status, 1);
  t.regex(refused.stderr, /bad\.json: .*region_code: must be a 6-digit/);
  t.regex(refused.stderr, /redirect_uris: /);
  // The provider's own client: a site under its id would be listed and audited, never used.
  const own = join(e.DATA_DIR, 'own.json');
  writeFileSync(
    own,
    JSON.stringify({
      client_id: 'yitong-account',
      client_name: 'x',
      department: 'y',
      region_code: '440106',
      redirect_uris: ['https://x.example.gov.cn/cb'],
      scope: 'openid',
    }),
  );
  const reserved = yitong(['clients', 'add', own], e);
  t.is(reserved.status, 1);
  t.regex(
    reserved.stderr,
    /^invalid manifest .*own\.json: client_id: is reserved for the provider's own use; choose another client_id\n/,
  );

  // README: a malformed value exits 2; a lookup that finds nothing is another failure, 1.
  const noClient = yitong(['clients', 'rotate-secret', 'nosuch'], e);
  t.is(noClient.status, 1);
  t.regex(noClient.stderr, /^error: No site is registered with client_id “nosuch”\./);
  const adminScope = yitong(
    ['clients', 'issue-token', '--department', 'D', '--region-code', '440100', '--scopes', 'openid admin'],
    e,
  );
  t.is(adminScope.status, 2);
  t.regex(
    adminScope.stderr,
    /^--scopes: The scopes must include openid and be among: openid offline_access profile phone email id_number legal_person\. The admin scopes \(admin, admin:read\) cannot be given through self-registration/,
  );
  t.regex(adminScope.stderr, /\nusage: yitong clients issue-token/);
  const noDepartment = yitong(
    ['clients', 'issue-token', '--department', ' ', '--region-code', '440100', '--scopes', 'openid'],
    e,
  );
  t.is(noDepartment.status, 2);
  t.regex(noDepartment.stderr, /^--department: Give the department’s name/);

  const badEnv = yitong(['migrate'], { ...e, DATABASE_URL: 'mysql://nope' });
  t.is(badEnv.status, 1);
  t.is(
    badEnv.stderr.trim(),
    'error: DATABASE_URL must be a URL starting with postgres:// or postgresql:// (got "mysql://…")',
  );
});

test('accounts purge deletes accounts whose waiting period is over, old session and expired grant records, with counts', async (t) => {
  const e = env();
  const [due, waiting] = [newCitizen(), newCitizen()];
  const subs = [due, waiting].map((person) =>
    yitong(
      ['citizen', 'create', '--id-number', person.idNumber, '--name', person.name, '--password-stdin'],
      e,
      person.password,
    ).stdout.trim(),
  );
  const database = await openDatabase({ databaseUrl: undefined, pgliteDir: join(e.DATA_DIR, 'pglite') });
  for (const [index, sub] of subs.entries())
    await database.db
      .updateTable('people')
      .set({ deletion_due_at: new Date(Date.now() + (index === 0 ? -1 : 1) * 86_400_000) })
      .where('id', '=', sub ?? '')
      .execute();
  for (const [uid, daysAgo] of [
    ['old', 3],
    ['current', 0],
  ] as const)
    await database.db
      .insertInto('sign_in_sessions')
      .values({
        person_id: subs[1] ?? '',
        uid,
        device: 'Chrome 131 · Android',
        network: '10.0.0.*',
        area: 'local',
        auth_time: new Date(),
        last_active_at: new Date(Date.now() - daysAgo * 86_400_000),
      })
      .execute();
  for (const [grantId, daysAgo] of [
    ['expired', 31],
    ['live', 29],
  ] as const)
    await database.db
      .insertInto('site_grants')
      .values({
        grant_id: grantId,
        person_id: subs[1] ?? '',
        client_id: 'site',
        last_used_at: new Date(Date.now() - daysAgo * 86_400_000),
      })
      .execute();
  // Verified values: household registration is kept 1,825 days after it was last published.
  for (const [type, daysAgo] of [
    ['household_registration', 1826],
    ['social_insurance', 1824],
  ] as const)
    await database.db
      .insertInto('attributes')
      .values({
        holder_id: subs[1] ?? '',
        type_code: type,
        value: '{}',
        verified_at: new Date(),
        evidence: '{}',
        source_client_id: 'source',
        updated_at: new Date(Date.now() - daysAgo * 86_400_000),
      })
      .execute();
  await database.close();

  const purge = yitong(['accounts', 'purge'], e);
  t.is(purge.status, 0, purge.stderr);
  t.regex(
    purge.stdout,
    /^1 accounts deleted, 0 kept, 0 expired fingerprints dropped, 1 old session records, 1 expired grant records, 0 lapsed claims and 1 verified values past their retention dropped$/m,
  );
  t.regex(purge.stderr, /1\/1 accounts/);
  const after = await openDatabase({ databaseUrl: undefined, pgliteDir: join(e.DATA_DIR, 'pglite') });
  t.teardown(() => after.close());
  const left = await after.db.selectFrom('people').select('id').execute();
  t.deepEqual(
    left.map((row) => row.id),
    [subs[1]],
  );
  const sessions = await after.db.selectFrom('sign_in_sessions').select('uid').execute();
  t.deepEqual(
    sessions.map((row) => row.uid),
    ['current'],
  );
  const grants = await after.db.selectFrom('site_grants').select('grant_id').execute();
  t.deepEqual(
    grants.map((row) => row.grant_id),
    ['live'],
  );
  const kept = await after.db.selectFrom('attributes').select('type_code').execute();
  t.deepEqual(
    kept.map((row) => row.type_code),
    ['social_insurance'],
  );
});

test('upstreams sync stores a folder whole (audited, a bad manifest changes nothing); check says which cannot be reached', (t) => {
  const e = env();
  const none = yitong(['upstreams', 'check'], e);
  t.is(none.status, 0, none.stderr);
  t.regex(none.stdout, /no upstream identity provider is configured/);
  const manifest = UNREACHABLE_NATIONAL;
  const dir = upstreamsDir(manifest);
  const synced = yitong(['upstreams', 'sync', dir], e);
  t.is(synced.status, 0, synced.stderr);
  t.is(synced.stdout.trim(), 'national: added');
  t.is(yitong(['upstreams', 'sync', dir], e).stdout.trim(), 'national: unchanged');
  const unreachable = yitong(['upstreams', 'check'], e);
  t.is(unreachable.status, 1);
  t.regex(unreachable.stdout, /^national: cannot be reached at https:\/\/national\.example\.invalid/m);
  writeFileSync(join(dir, 'national.json'), JSON.stringify({ ...manifest, max_identity_level: 4 }));
  writeFileSync(join(dir, 'other.json'), JSON.stringify({ ...manifest, id: 'other' }));
  const bad = yitong(['upstreams', 'sync', dir], e);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /national\.json[\s\S]*max_identity_level/);
  t.regex(yitong(['upstreams', 'check'], e).stdout, /^national: /m, 'the stored set is unchanged');
  t.notRegex(yitong(['upstreams', 'check'], e).stdout, /^other: /m);
});

test('keys rotate stages new keys, keys list shows each state, keys retire takes out what no longer signs and refuses the rest', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  t.teardown(drop);
  const e = { ...env(), DATABASE_URL: url };
  const rotated = yitong(['keys', 'rotate'], e);
  t.is(rotated.status, 0, rotated.stderr);
  const staged = [...rotated.stdout.matchAll(/^new signing key .*: ([\w-]{43})$/gm)].map((match) => match[1]);
  t.is(staged.length, 3);

  const listed = yitong(['keys', 'list'], e);
  t.is(listed.status, 0, listed.stderr);
  const rows = listed.stdout.trimEnd().split('\n');
  t.regex(rows[0] ?? '', /^kid +kind +algorithms +created +signs from +state +in JWKS$/);
  // No site signs PS256 here: those keys are not in the JWKS.
  const row = (kind: string, state: string) =>
    new RegExp(
      `^([\\w-]{43})  ${kind} +${kind} +\\S+Z  \\S+Z  ${state} +${kind === 'PS256' ? 'no: no site signs PS256' : 'yes'}$`,
    );
  t.deepEqual(
    rows
      .slice(1)
      .map((line) =>
        ['next', 'signing']
          .flatMap((state) => ['ES256', 'PS256', 'RS256'].map((kind) => row(kind, state)))
          .findIndex((r) => r.test(line)),
      ),
    [0, 1, 2, 3, 4, 5],
    listed.stdout,
  );
  const signing = row('ES256', 'signing').exec(rows[4] ?? '')?.[1] ?? '';

  const refused = yitong(['keys', 'retire', signing], e);
  t.is(refused.status, 1, refused.stderr);
  t.is(
    refused.stderr,
    `error: ${signing} is the ES256 key that signs now and cannot be retired: rotate first (\`yitong keys rotate\`, or \`yitong keys rotate --now\` when the key is compromised), then retire it once the new key signs\n`,
  );
  const unknown = yitong(['keys', 'retire', 'A'.repeat(43)], e);
  t.is(unknown.status, 1);
  t.is(
    unknown.stderr,
    `error: no signing key has the kid ${'A'.repeat(43)}; \`yitong keys list\` lists them\n`,
  );
  const database = await openDatabase({ databaseUrl: url, connectTimeoutMs: 30_000 });
  t.teardown(() => database.close());
  t.is((await database.db.selectFrom('signing_keys').select('kid').execute()).length, 6, 'nothing changed');

  const now = yitong(['keys', 'rotate', '--now'], e);
  t.is(now.status, 0, now.stderr);
  for (const kid of staged)
    t.true(now.stdout.includes(`withdrawn, replaced before it began signing: ${kid}\n`));
  t.regex(
    now.stdout,
    /in the JWKS and signing now, on every node within a second; sites that cache the JWKS and do not refetch it on an unknown kid fail/,
  );

  const early = yitong(['keys', 'retire', signing], e);
  t.is(early.status, 1);
  t.regex(
    early.stderr,
    /stopped signing \d+ s ago and a node may not have switched yet: retire it in \d+ s\n$/,
  );
  // Every key's signing time two minutes earlier, in the same order: as if the switch were that long ago.
  await sql`UPDATE signing_keys SET signs_from = signs_from - interval '2 minutes'`.execute(database.db);
  const retired = yitong(['keys', 'retire', signing], e);
  t.is(retired.status, 0, retired.stderr);
  t.regex(
    retired.stdout,
    new RegExp(
      `^retired ES256 key ${signing}: out of the JWKS on every node within a second\nit was replaced less than 12 h ago`,
    ),
  );
  const left = await database.db.selectFrom('signing_keys').select(['kid', 'alg']).execute();
  t.deepEqual(
    left.map((key) => key.alg).sort(),
    ['ES256', 'PS256', 'PS256', 'RS256', 'RS256'],
    'the three new keys and the replaced RSA ones; the withdrawn and the retired ones are gone',
  );
  t.false(left.some((key) => key.kid === signing || staged.includes(key.kid)));
});
