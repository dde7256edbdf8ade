/**
 * The audit trail: one row for each sign-in (success and failure), registration, consent and
 * release of claims; rows cannot be changed; `verify` finds the first altered row.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { sql } from 'kysely';
import * as client from 'openid-client';
import { verifyAuditChain } from '../../src/audit/repo.ts';
import { Browser, hiddenField, submit } from '../helpers/browser.ts';
import { freshDatabase } from '../helpers/databases.ts';
import { newCitizen } from '../helpers/people.ts';
import { authorizationRequest, discoverSite, exchangeCode, REDIRECT_URI } from '../helpers/rp.ts';
import { startYitong } from '../helpers/yitong.ts';

test('each action is one row, with who, what and from where; verify passes, then names the altered row', async (t) => {
  const yitong = await startYitong('postgres');
  t.teardown(() => yitong.stop());
  const db = yitong.server.container.database.db;
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '公积金',
    department: '住房公积金中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    scope: 'openid profile',
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  const person = newCitizen();
  const browser = new Browser();
  const form = await browser.visit(`${yitong.issuer}/register`);
  await browser.visit(`${yitong.issuer}/register`, {
    form: {
      _csrf: hiddenField(form.html, '_csrf'),
      id_number: person.idNumber,
      name: person.name,
      phone: person.phone,
      password: person.password,
      password_confirm: person.password,
    },
  });
  const sub =
    (await yitong.server.container.accounts.findPersonByIdNumber(person.idNumber as never))?.id ?? '';

  const pending = await authorizationRequest(site, { scope: 'openid profile' });
  const login = await browser.visit(pending.url);
  const wrong = await submit(browser, login, '/login', {
    id_number: person.idNumber,
    password: 'not the password',
  });
  const consent = await submit(browser, wrong, '/login', {
    id_number: person.idNumber,
    password: person.password,
  });
  const back = await submit(browser, consent, '/consent', {}, REDIRECT_URI);
  const tokens = await exchangeCode(site, back.url, pending);
  await client.fetchUserInfo(site.config, tokens.access_token, sub);
  // The same token asking again for the same claims releases nothing new: one row.
  await client.fetchUserInfo(site.config, tokens.access_token, sub);

  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('subject', '=', sub)
    .orderBy('seq')
    .execute();
  t.deepEqual(
    rows.map((row) => row.action),
    [
      'account.registered',
      'signin.failed',
      'signin',
      'consent.granted',
      'claims.released',
      'claims.released',
    ],
  );
  const [registered, failed, signin, consented, idToken, userinfo] = rows;
  t.is(registered?.ip, '127.0.0.1');
  t.deepEqual(failed?.details, { method: 'pwd', reason: 'wrong_password' });
  t.like(signin?.details, { acr: 'urn:yitong:acr:pwd', amr: ['pwd'], client_id: clientId });
  t.like(consented?.details, { client_id: clientId, scopes: ['openid', 'profile'] });
  t.like(idToken?.details, { client_id: clientId, use: 'id_token', claims: ['sub'] });
  t.like(userinfo?.details, { client_id: clientId, use: 'userinfo' });
  t.deepEqual([...((userinfo?.details.claims as string[]) ?? [])].sort(), [
    'birthdate',
    'gender',
    'identity_level',
    'name',
    'sub',
  ]);
  t.false(JSON.stringify(rows).includes(person.idNumber), 'never the identity number');

  t.deepEqual(await verifyAuditChain(db), {
    rows: (await db.selectFrom('audit_events').select('seq').execute()).length,
  });

  // Nobody changes a row in place, not even the owner…
  const update = await t.throwsAsync(
    sql`UPDATE audit_events SET actor = 'x' WHERE seq = ${consented?.seq}`.execute(db),
  );
  t.regex(update?.message ?? '', /append-only/);
  await t.throwsAsync(sql`DELETE FROM audit_events`.execute(db), { message: /append-only/ });
  // …unless they first switch the guard off, which verify then exposes.
  await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`.execute(db);
  await sql`UPDATE audit_events SET details = '{"client_id":"other"}' WHERE seq = ${consented?.seq}`.execute(
    db,
  );
  await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`.execute(db);
  const check = await verifyAuditChain(db);
  t.deepEqual(check.broken, { seq: consented?.seq, reason: 'hash' });

  const cli = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'verify'], {
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'silent',
      DATABASE_CONNECT_TIMEOUT_MS: '30000',
      DATABASE_URL: yitong.server.container.config.databaseUrl ?? '',
      DATA_DIR: yitong.server.container.config.dataDir,
    },
    encoding: 'utf8',
  });
  t.is(cli.status, 1);
  t.regex(cli.stderr, new RegExp(`broken at row ${consented?.seq}: its contents do not match its hash`));
});

test('a deleted row breaks the link of the row after it', async (t) => {
  const { database, dispose } = await freshDatabase('pglite');
  t.teardown(dispose);
  const log = (await import('../../src/audit/repo.ts')).createAuditLog(database.db);
  for (const action of ['a.one', 'a.two', 'a.three'])
    await log.record({ actor: 'cli', action, details: { z: 1, a: [2] } });
  t.deepEqual(await verifyAuditChain(database.db), { rows: 3 });
  await t.throwsAsync(sql`DELETE FROM audit_events WHERE action = 'a.two'`.execute(database.db), {
    message: /append-only/,
  });
  await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`.execute(database.db);
  await sql`DELETE FROM audit_events WHERE action = 'a.two'`.execute(database.db);
  const third = await database.db
    .selectFrom('audit_events')
    .select('seq')
    .where('action', '=', 'a.three')
    .executeTakeFirstOrThrow();
  t.deepEqual(await verifyAuditChain(database.db), { rows: 1, broken: { seq: third.seq, reason: 'link' } });
});

for (const backend of ['postgres', 'pglite'] as const)
  test(`appends racing on several connections keep one unbroken chain (${backend})`, async (t) => {
    const { database, dispose } = await freshDatabase(backend);
    t.teardown(dispose);
    const { appendAudit, createAuditLog, withAudit } = await import('../../src/audit/repo.ts');
    const log = createAuditLog(database.db);
    // Text the database must hash byte for byte as verification does: CJK, an emoji, escapes.
    const details = { 名称: '住房公积金中心', note: 'line\nbreak "quoted" \\ 🙂', list: [1.5, null, true] };
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => log.record({ actor: 'system', action: `log.${i}`, details })),
      ...Array.from({ length: 20 }, (_, i) =>
        withAudit(database.db, { actor: 'cli', action: `change.${i}`, subject: `p${i}` }, async () => i),
      ),
      appendAudit(
        database.db,
        ...Array.from({ length: 5 }, (_, i) => ({ actor: 'cli', action: `bulk.${i}` })),
      ),
    ]);
    t.deepEqual(await verifyAuditChain(database.db, undefined, 7), { rows: 65 });
    const rows = await database.db
      .selectFrom('audit_events')
      .select(['action', 'details'])
      .orderBy('seq')
      .execute();
    t.deepEqual(rows.find((row) => row.action === 'log.0')?.details, details);
    const bulk = rows.filter((row) => row.action.startsWith('bulk.')).map((row) => row.action);
    t.deepEqual(bulk, ['bulk.0', 'bulk.1', 'bulk.2', 'bulk.3', 'bulk.4'], 'one call’s rows in its order');
  });
