/**
 * Synthetic citizens for benchmarks: N valid, deterministic accounts bulk-loaded into `people`,
 * so sign-in can be measured at 10 k or 1 M accounts. Citizen i has the sub `bench-<i>`, the
 * identity number `syntheticIdNumber(i)` and the password given to the seeding run.
 *
 * @example
 *   const { inserted, skipped } = await seedCitizens(
 *     { db: container.database.db, sealer: container.sealer },
 *     { citizens: 1_000_000, password: 'bench-password-2026' },
 *   );
 *   // later, the benchmark signs in as citizen 42:
 *   await accounts.authenticate(syntheticIdNumber(42), 'bench-password-2026', ip);
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { hashPassword } from '../auth/password.ts';
import type { Schema } from '../db/schema.ts';
import type { Sealer } from '../identity/crypto.ts';
import { checkCharacter, factsOf, type IdNumber } from '../identity/id-number.ts';

/** Real district codes (GB/T 2260) of 13 provincial capitals: 13 is prime, so coprime with 1000 and DAYS. */
const REGIONS = [
  '110101', // 北京 东城区
  '310101', // 上海 黄浦区
  '440106', // 广州 天河区
  '330106', // 杭州 西湖区
  '510104', // 成都 锦江区
  '320102', // 南京 玄武区
  '420102', // 武汉 江岸区
  '610113', // 西安 雁塔区
  '120101', // 天津 和平区
  '370102', // 济南 历下区
  '500103', // 重庆 渝中区
  '430102', // 长沙 芙蓉区
  '210102', // 沈阳 和平区
] as const;
const FIRST_DAY = Date.UTC(1950, 0, 1);
/** 1950-01-01 … 2005-12-30: 20,453 = 113 × 181 days, odd and no multiple of 5 or 13. */
const DAYS = 20_453;
/** A prime that is no factor of DAYS: i ↦ i × DAY_STRIDE mod DAYS permutes the days. */
const DAY_STRIDE = 7_919;
const SEQUENCES = 1_000;
/** How many distinct numbers the mapping gives: 265,889,000. */
export const SYNTHETIC_CAPACITY = DAYS * SEQUENCES * REGIONS.length;

export const SYNTHETIC_SUB_PREFIX = 'bench-';
const CHINESE_DIGITS = '零一二三四五六七八九';

let dayDigits: string[] | undefined;

/**
 * The identity number of synthetic citizen i, for 0 ≤ i < SYNTHETIC_CAPACITY.
 *
 * Mapping: birth day = (i × 7919) mod 20453 days after 1950-01-01, sequence = i mod 1000,
 * region = REGIONS[i mod 13], then the ISO 7064 check character. 20453, 1000 and 13 are
 * pairwise coprime, so by the Chinese remainder theorem i ↦ (i mod 20453, i mod 1000, i mod 13)
 * is one-to-one below 20453 × 1000 × 13 = 265,889,000: no two citizens share a number. Every
 * part moves with i, so even the first 10 k citizens spread over all regions, both genders
 * (sequence parity) and birth dates from 1950 to 2005.
 */
export function syntheticIdNumber(i: number): IdNumber {
  if (!Number.isSafeInteger(i) || i < 0 || i >= SYNTHETIC_CAPACITY)
    throw new RangeError(`synthetic citizen index must be an integer from 0 to ${SYNTHETIC_CAPACITY - 1}`);
  dayDigits ??= Array.from({ length: DAYS }, (_, day) =>
    new Date(FIRST_DAY + day * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''),
  );
  const first17 = `${REGIONS[i % REGIONS.length]}${dayDigits[(i * DAY_STRIDE) % DAYS]}${String(i % SEQUENCES).padStart(3, '0')}`;
  return `${first17}${checkCharacter(first17)}` as IdNumber;
}

/** The `sub` of synthetic citizen i: recognisable, and the same on every run so a rerun skips it. */
export function syntheticSub(i: number): string {
  return `${SYNTHETIC_SUB_PREFIX}${i}`;
}

export interface SeedOptions {
  citizens: number;
  password: string;
  /** Rows per INSERT statement (default 2,000). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Inserts synthetic citizens 0 … citizens − 1 that are not there yet. Resumable: rerun the same
 * command after an interruption and it continues. One grouped query first counts the synthetic
 * rows per batch, and batches already complete are skipped without building or sending them,
 * so a rerun after completion costs one scan of `people`. Incomplete batches are inserted again
 * with ON CONFLICT DO NOTHING. Rows inserted earlier keep the password of that run.
 */
export async function seedCitizens(
  deps: { db: Kysely<Schema>; sealer: Sealer },
  options: SeedOptions,
): Promise<{ inserted: number; skipped: number }> {
  const { db, sealer } = deps;
  const total = options.citizens;
  const batchSize = options.batchSize ?? 2_000;
  if (!Number.isSafeInteger(total) || total < 0 || total > SYNTHETIC_CAPACITY)
    throw new RangeError(`citizens must be an integer from 0 to ${SYNTHETIC_CAPACITY}`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 7_000)
    throw new RangeError('batchSize must be an integer from 1 to 7000 (9 parameters a row, 65,535 at most)');

  await assertSameKeys(db, sealer);
  const present = await countPresentByBatch(db, total, batchSize);
  // One argon2id hash shared by every synthetic citizen: at OWASP cost one hash takes tens of
  // milliseconds, so hashing 1 M passwords would take hours. Sign-in still runs a full argon2id
  // verification per attempt, which is what the benchmark measures. Never do this for real people.
  const passwordHash = await hashPassword(options.password);

  let inserted = 0;
  let skipped = 0;
  let sending: Promise<void> = Promise.resolve();
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(start + batchSize, total);
    if (present.get(start / batchSize) === end - start) {
      await sending;
      skipped += end - start;
      options.onProgress?.(end, total);
      continue;
    }
    // Built while the previous batch is in PostgreSQL: the two cores work at once.
    const rows = citizenRows(start, end, sealer, passwordHash);
    await sending;
    sending = insertIgnoringDuplicates(db, rows).then((count) => {
      inserted += count;
      skipped += rows.length - count;
      options.onProgress?.(end, total);
    });
    // Awaited before the next batch; a failure meanwhile must not count as an unhandled rejection.
    sending.catch(() => {});
    await nextTurn(); // lets the driver put the statement on the wire before the next batch is built
  }
  await sending;
  return { inserted, skipped };
}

function citizenRows(start: number, end: number, sealer: Sealer, passwordHash: string) {
  const rows = [];
  for (let i = start; i < end; i++) {
    const idNumber = syntheticIdNumber(i);
    const facts = factsOf(idNumber);
    rows.push({
      id: syntheticSub(i),
      id_number_hmac: sealer.index(idNumber),
      id_number_enc: sealer.seal(idNumber),
      id_number_masked: facts.masked,
      // Chinese numerals, not ASCII digits: the name passes the registration rule for names.
      name: `测试${Array.from(String(i), (digit) => CHINESE_DIGITS[Number(digit)]).join('')}`,
      gender: facts.gender,
      birthdate: facts.birthdate,
      phone: `1${3 + (i % 7)}${String(i % 1e9).padStart(9, '0')}`,
      password_hash: passwordHash,
    });
  }
  return rows;
}

async function insertIgnoringDuplicates(
  db: Kysely<Schema>,
  rows: ReturnType<typeof citizenRows>,
): Promise<number> {
  // No conflict target: a clash on the sub or on the identity number (a real account registered
  // with a synthetic number) both skip the row instead of failing the run.
  const result = await db
    .insertInto('people')
    .values(rows)
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

const SYNTHETIC_LIKE = `${SYNTHETIC_SUB_PREFIX}%`;
const DIGITS_FROM = SYNTHETIC_SUB_PREFIX.length + 1;

async function countPresentByBatch(
  db: Kysely<Schema>,
  total: number,
  batchSize: number,
): Promise<Map<number, number>> {
  // The cast sits in CASE … THEN: in a WHERE clause PostgreSQL may evaluate it before the
  // digits test, and real subs are not numbers. ltrim, not a regular expression: 5× faster at 1 M.
  const { rows } = await sql<{ batch: number; present: number }>`
    SELECT (i / ${batchSize})::float8 AS batch, count(*)::float8 AS present
    FROM (SELECT CASE WHEN length(id) BETWEEN ${DIGITS_FROM} AND ${DIGITS_FROM + 11}
        AND ltrim(substr(id, ${DIGITS_FROM}), '0123456789') = ''
      THEN substr(id, ${DIGITS_FROM})::bigint END AS i
      FROM people WHERE id LIKE ${SYNTHETIC_LIKE}) AS synthetic
    WHERE i < ${total} GROUP BY 1`.execute(db);
  return new Map(rows.map((row) => [row.batch, row.present]));
}

/** Synthetic rows sealed under other keys would be skipped yet unusable for sign-in: say so instead. */
async function assertSameKeys(db: Kysely<Schema>, sealer: Sealer): Promise<void> {
  const { rows } = await sql<{ id: string; id_number_hmac: Uint8Array }>`
    SELECT id, id_number_hmac FROM people WHERE id LIKE ${SYNTHETIC_LIKE} LIMIT 1`.execute(db);
  const row = rows[0];
  const i = Number(row?.id.slice(SYNTHETIC_SUB_PREFIX.length));
  if (!row || !(Number.isSafeInteger(i) && i < SYNTHETIC_CAPACITY)) return;
  if (sealer.index(syntheticIdNumber(i)).equals(Buffer.from(row.id_number_hmac))) return;
  throw new Error(
    `the synthetic citizens already in the database were sealed with other keys; remove them first: DELETE FROM people WHERE id LIKE '${SYNTHETIC_SUB_PREFIX}%'`,
  );
}

export interface PeopleStorage {
  rows: number;
  /** pg_table_size: heap, TOAST and free-space map. */
  tableBytes: number;
  /** pg_indexes_size: the primary key and the identity-number index. */
  indexBytes: number;
}

/** How many people there are and how much disk they take. */
export async function peopleStorage(db: Kysely<Schema>): Promise<PeopleStorage> {
  const { rows } = await sql<PeopleStorage>`
    SELECT count(*)::float8 AS "rows",
      pg_table_size('people')::float8 AS "tableBytes",
      pg_indexes_size('people')::float8 AS "indexBytes"
    FROM people`.execute(db);
  return rows[0] as PeopleStorage;
}
