import { mkdtempSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sql } from 'kysely';
import { type Change, listenPostgres, notifyChange } from '../../src/db/changes.ts';
import { DataDirInUseError, openDatabase } from '../../src/db/database.ts';
import { migrate, pendingMigrations } from '../../src/db/migrate.ts';
import { createOutages, isOutage } from '../../src/outage.ts';
import { createPostgresDatabase, silencingProxy } from '../helpers/databases.ts';
import { eventually } from '../helpers/wait.ts';

// Serial, so before the others: PGlite's WebAssembly holds this process's event loop while it
// starts, and the PostgreSQL tests below would see their connect timers fire first.
test.serial(
  'the embedded database refuses a second opener with a clear message, and takes over a dead process’s lock',
  async (t) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'yitong-lock-')), 'pglite');
    const first = await openDatabase({ pgliteDir: dir });
    const error = await t.throwsAsync(openDatabase({ pgliteDir: dir }), { instanceOf: DataDirInUseError });
    t.regex(error?.message ?? '', /is in use by process \d+ .*set DATABASE_URL/);
    await first.close();

    writeFileSync(`${dir}.lock`, `999999999\n${hostname()}\n`);
    const second = await openDatabase({ pgliteDir: dir });
    t.is(second.kind, 'pglite');
    await second.close();
  },
);

test('migrations: all pending on a fresh database, applied once even when two processes race, then none pending', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  t.teardown(drop);
  // Generous connect timeouts: on a loaded CI machine a new connection can take seconds, and
  // this test is about the race, not about timeouts.
  const [a, b] = [
    await openDatabase({ databaseUrl: url, poolSize: 2, connectTimeoutMs: 30_000 }),
    await openDatabase({ databaseUrl: url, poolSize: 2, connectTimeoutMs: 30_000 }),
  ];
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const all = (await readdir(new URL('../../migrations/', import.meta.url))).sort();
  t.true(all.length >= 2);
  t.deepEqual(await pendingMigrations(a), all);
  const [appliedByA, appliedByB] = await Promise.all([migrate(a), migrate(b)]);
  t.deepEqual([...appliedByA, ...appliedByB].sort(), all, 'each applied once, by one of them');
  t.deepEqual(await pendingMigrations(b), []);
  t.deepEqual(await migrate(a), []);
});

test('a migration is not bound by the requests’ statement timeout; requests still are', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  const database = await openDatabase({
    databaseUrl: url,
    poolSize: 1,
    statementTimeoutMs: 200,
    connectTimeoutMs: 30_000,
  });
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  t.true(await database.applyMigration('9999_slow.sql', 'SELECT pg_sleep(0.6)'));
  // PostgreSQL's own bound, or (on a loaded machine that answers late) the client's, 1 s after it.
  await t.throwsAsync(sql`SELECT pg_sleep(0.6)`.execute(database.db), {
    message: /statement timeout|Query read timeout/,
  });
});

test('a database too busy for one request (every connection busy, or a statement past its timeout) is a 503 for it, not an outage for all', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  const logged: string[] = [];
  const outages = createOutages({
    error: (_: unknown, line: string) => logged.push(line),
    warn: () => {},
  } as never);
  const database = await openDatabase({ databaseUrl: url, poolSize: 1, connectTimeoutMs: 3000, outages });
  await sql`SELECT 1`.execute(database.db); // the one connection, open
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  const busy = sql`SELECT pg_sleep(4)`.execute(database.db);
  const waited = await t.throwsAsync(sql`SELECT 1`.execute(database.db));
  t.true(isOutage(waited), 'answered 503');
  outages.down('database', waited); // what the error handler does with it
  t.false(outages.isDown('database'), 'the other requests go on');
  await busy;
  const cancelled = await t.throwsAsync(
    database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = 100`.execute(trx);
      await sql`SELECT pg_sleep(0.5)`.execute(trx);
    }),
  );
  t.is((cancelled as { code?: string }).code, '57014');
  t.true(isOutage(cancelled), 'answered 503');
  outages.down('database', cancelled);
  t.false(outages.isDown('database'), 'the server cancelled it: it answers');
  t.deepEqual(logged, []);
});

test('a listening connection dropped without a word (a NAT, a firewall) is noticed and replaced: the changes are heard again', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  const proxy = await silencingProxy(url);
  const heard: Change[] = [];
  let resyncs = 0;
  let losses = 0;
  const { stop } = listenPostgres(
    proxy.url,
    (change) => heard.push(change),
    () => resyncs++,
    () => losses++,
    400,
  );
  const database = await openDatabase({ databaseUrl: url, poolSize: 1, connectTimeoutMs: 30_000 });
  t.teardown(async () => {
    await stop();
    proxy.close();
    await database.close();
    await drop();
  });
  await eventually('listening', () => resyncs === 1);
  proxy.silence();
  await eventually('the silent connection is given up', () => losses === 1);
  await eventually('listening again', () => resyncs === 2);
  await notifyChange(database.db, { kind: 'keys' });
  await eventually('a change heard on the new connection', () => heard.length === 1);
  t.deepEqual(heard, [{ kind: 'keys' }]);
});

test('a pool connection dropped without a word fails its request within seconds, not its 11 s timeout, and is replaced with the listening one; a slow query beside it is left alone', async (t) => {
  const { url, drop } = await createPostgresDatabase();
  const proxy = await silencingProxy(url);
  const logged: string[] = [];
  const outages = createOutages({
    error: (fields: { reason: string }) => logged.push(fields.reason),
    warn: () => {},
  } as never);
  // A long connect timeout: on a loaded machine the check itself must not be taken for a hang.
  const database = await openDatabase({
    databaseUrl: proxy.url,
    poolSize: 3,
    connectTimeoutMs: 30_000,
    outages,
  });
  t.teardown(async () => {
    proxy.close();
    await database.close();
    await drop();
  });
  let resyncs = 0;
  await database.listen(
    () => {},
    () => resyncs++,
    () => {},
  );
  await eventually('listening', () => resyncs === 1);
  await sql`SELECT 1`.execute(database.db); // one connection, idle in the pool
  proxy.silence();
  const started = performance.now();
  // The idle, silenced connection goes to the first query; the slow one gets a new connection.
  const lost = t.throwsAsync(sql`SELECT 1`.execute(database.db));
  const slow = sql<{ done: boolean }>`SELECT true AS done FROM pg_sleep(2.5)`.execute(database.db);
  t.true(isOutage(await lost), 'answered 503');
  const waited = performance.now() - started;
  t.log(`the lost query failed after ${Math.round(waited)} ms`);
  t.true(waited < 6000, `failed after ${Math.round(waited)} ms`);
  t.deepEqual((await slow).rows, [{ done: true }], 'the slow query was not taken for a lost one');
  t.regex(logged.join(), /went silent, the server fine/);
  // Not left to its heartbeat, 10 s after it connected: it went with the pool's.
  await eventually('listening again', () => resyncs === 2, 8000);
  await eventually('the pool answers again, on new connections', () =>
    sql`SELECT 1`.execute(database.db).then(
      () => true,
      () => false,
    ),
  );
});
