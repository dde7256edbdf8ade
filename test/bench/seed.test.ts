/** `yitong bench seed`: synthetic citizens that are valid, unique, resumable and can sign in, on every backend. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createAccountsRepo } from '../../src/accounts/repo.ts';
import { createAccountsService } from '../../src/accounts/service.ts';
import { verifyPassword } from '../../src/auth/password.ts';
import { createLimiter, createSqlCounters } from '../../src/auth/rate-limit.ts';
import {
  peopleStorage,
  SYNTHETIC_CAPACITY,
  seedCitizens,
  syntheticIdNumber,
  syntheticSub,
} from '../../src/bench/seed.ts';
import type { Database } from '../../src/db/database.ts';
import { createSealer, type Sealer } from '../../src/identity/crypto.ts';
import { factsOf, parseIdNumber } from '../../src/identity/id-number.ts';
import { type Backend, freshDatabase } from '../helpers/databases.ts';

const PASSWORD = 'bench-password-2026';

test('synthetic identity numbers pass every GB 11643 rule, up to the last index', (t) => {
  for (const i of [
    0,
    1,
    999,
    1_000,
    20_452,
    20_453,
    9_999_999,
    19_999_999,
    49_999_999,
    SYNTHETIC_CAPACITY - 1,
  ])
    t.true(parseIdNumber(syntheticIdNumber(i)).ok, `index ${i}: ${syntheticIdNumber(i)}`);
  for (let i = 0; i < 100_000; i++) if (!parseIdNumber(syntheticIdNumber(i)).ok) t.fail(`index ${i}`);
  t.is(syntheticIdNumber(42), syntheticIdNumber(42), 'deterministic');
  for (const bad of [-1, 1.5, SYNTHETIC_CAPACITY, Number.NaN])
    t.throws(() => syntheticIdNumber(bad), { instanceOf: RangeError });
});

test('synthetic identity numbers never collide, and spread over regions, birth years and genders', (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) seen.add(syntheticIdNumber(i));
  for (let i = 19_950_000; i < 20_000_000; i++) seen.add(syntheticIdNumber(i));
  t.is(seen.size, 150_000);

  const first10k = Array.from({ length: 10_000 }, (_, i) => syntheticIdNumber(i));
  const years = first10k.map((n) => Number(n.slice(6, 10)));
  t.is(new Set(first10k.map((n) => n.slice(0, 6))).size, 13, 'every region');
  t.is(Math.min(...years), 1950);
  t.is(Math.max(...years), 2005);
  const genders = first10k.map((n) => factsOf(n).gender);
  t.is(genders.filter((g) => g === 'male').length, 5_000, 'half men, half women');
});

function accountsOn(database: Database, sealer: Sealer) {
  const counters = createSqlCounters(database.db);
  const limiter = (name: string) => createLimiter(counters, { name, limit: 100, windowSeconds: 60 });
  // No notices here: seeding registers fresh numbers only.
  return createAccountsService(createAccountsRepo(database.db), sealer, async () => {}, {
    passwordPerAccountAndAddress: limiter('a'),
    passwordPerAccount: limiter('b'),
    passwordPerAccountAndNetwork: limiter('e'),
    passwordUnderAttack: limiter('f'),
    passwordPerAddress: limiter('c'),
    registrationPerAddress: limiter('d'),
  });
}

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  test(`${backend}: seeds citizens who can sign in; a rerun skips them and an interrupted run resumes`, async (t) => {
    const fresh = await freshDatabase(backend);
    t.teardown(() => fresh.dispose());
    const { db } = fresh.database;
    const sealer = createSealer(randomBytes(32), randomBytes(32));
    const progress: number[] = [];
    const options = {
      citizens: 2_500,
      password: PASSWORD,
      batchSize: 1_000,
      onProgress: (done: number, total: number) => progress.push(done / total),
    };

    t.deepEqual(await seedCitizens({ db, sealer }, options), { inserted: 2_500, skipped: 0 });
    t.deepEqual(progress, [0.4, 0.8, 1]);
    const storage = await peopleStorage(db);
    t.is(storage.rows, 2_500);
    t.true(storage.tableBytes > 0 && storage.indexBytes > 0);

    const repo = createAccountsRepo(db);
    for (const i of [0, 1_234, 2_499]) {
      const row = await repo.findPersonById(syntheticSub(i));
      if (!row) return t.fail(`citizen ${i} is missing`);
      const facts = factsOf(syntheticIdNumber(i));
      t.is(sealer.open(Buffer.from(row.idNumberEnc)), syntheticIdNumber(i));
      t.true(await verifyPassword(row.passwordHash, PASSWORD));
      t.like(row, { birthdate: facts.birthdate, gender: facts.gender, idNumberMasked: facts.masked });
    }
    const person = await accountsOn(fresh.database, sealer).authenticate(
      syntheticIdNumber(1_234),
      PASSWORD,
      '203.0.113.9',
    );
    t.is(person.id, syntheticSub(1_234), 'signs in through the accounts service');

    progress.length = 0;
    t.deepEqual(await seedCitizens({ db, sealer }, options), { inserted: 0, skipped: 2_500 });
    t.is(progress.at(-1), 1, 'progress reaches the total when everything is skipped');

    await db
      .deleteFrom('people')
      .where('id', 'in', [
        ...Array.from({ length: 300 }, (_, k) => syntheticSub(1_100 + k)),
        syntheticSub(2_499),
      ])
      .execute();
    t.deepEqual(await seedCitizens({ db, sealer }, { ...options, citizens: 3_000 }), {
      inserted: 801,
      skipped: 2_199,
    });
    t.is((await peopleStorage(db)).rows, 3_000);

    const otherKeys = createSealer(randomBytes(32), randomBytes(32));
    await t.throwsAsync(seedCitizens({ db, sealer: otherKeys }, options), {
      message: /sealed with other keys/,
    });
  });
}

/** The CLI as a separate process, without blocking the other tests of this file. */
function yitong(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  );
}

test('yitong bench seed: refuses a bad count, seeds the embedded database with progress and sizes', async (t) => {
  const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'yitong-bench-')) };
  const refusals = await Promise.all(
    [['--citizens=0'], ['--citizens=-5'], ['--citizens=many'], ['--citizens=50000001'], []].map((bad) =>
      yitong(['bench', 'seed', ...bad], env),
    ),
  );
  for (const refused of refusals) {
    t.is(refused.status, 2);
    t.regex(
      refused.stderr,
      /^--citizens(: must be a whole number from 1 to 50000000 \(got ".*"\)| is required)\nusage: yitong bench seed/,
    );
  }

  const seeded = await yitong(['bench', 'seed', '--citizens', '1200'], env);
  t.is(seeded.status, 0, seeded.stderr);
  t.regex(seeded.stdout, /^1200 inserted, 0 skipped in [\d.]+ s \(\d+ rows\/s inserted\)$/m);
  t.regex(seeded.stdout, /^people: 1200 rows, table \d+ KiB, indexes \d+ KiB$/m);
  t.regex(seeded.stderr, /^warning: adding synthetic accounts/);
  t.regex(seeded.stderr, /100\.0% {2}1200\/1200 rows/);

  const again = await yitong(['bench', 'seed', '--citizens', '1_200'], env);
  t.regex(again.stdout, /^0 inserted, 1200 skipped/);
});
