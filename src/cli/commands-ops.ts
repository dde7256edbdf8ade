/** Running the service: migrations, upstreams, the audit chain, benchmark data (signing keys: commands-keys.ts). */
import { verifyAuditChain } from '../audit/repo.ts';
import { peopleStorage, seedCitizens } from '../bench/seed.ts';
import { readableDirectory, toWholeNumber, wholeNumber } from './argument-formats.ts';
import { AuditChainError, type Commands, print, readStdin, UsageError } from './command.ts';
import { formatBytes, migrationProgress, progressReporter } from './format.ts';

const BENCH_PASSWORD = 'bench-password-2026';
const MAX_BENCH_CITIZENS = 50_000_000;

export const opsCommands: Commands = {
  migrate: {
    usage: 'yitong migrate',
    summary:
      'Apply pending database migrations and list them, or say the database is up to date (the server also applies them at start).',
    onMigrationApplied: migrationProgress(process.stderr),
    async run(container) {
      // Opening the database (createContainer) applied what was pending: say what that was.
      const applied = container.migrationsApplied;
      if (applied.length === 0) print('the database is up to date: no migration was pending');
      else print(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
      for (const name of applied) print(`  ${name}`);
    },
  },
  'upstreams sync': {
    usage: 'yitong upstreams sync <dir>',
    summary:
      'Validate every *.json upstream identity provider manifest in <dir>, then make them the whole set (none changes if any is invalid): upstreams added, changed and removed are audited, and every running node uses the new set within a second.',
    positionals: [{ name: '<dir>', format: readableDirectory }],
    async run(container, _values, [dir]) {
      const results = await container.upstreamsStore.sync(dir as string, 'cli');
      for (const { id, status } of results) print(`${id}: ${status}`);
      if (!results.length) print(`no *.json manifest in ${dir}: there are no upstreams`);
    },
  },
  'upstreams check': {
    usage: 'yitong upstreams check',
    summary:
      'Check every upstream identity provider (as `upstreams sync` stored them): fetch its discovery document and say, for each, whether Yitong can reach it and sign people in through it (exit code 1 when one cannot).',
    async run(container) {
      const failed: string[] = [];
      if (!container.upstreams.size)
        print('no upstream identity provider is configured (yitong upstreams sync)');
      for (const upstream of container.upstreams.values()) {
        try {
          const metadata = (await upstream.configuration()).serverMetadata();
          print(
            `${upstream.id}: reachable at ${metadata.issuer}${metadata.end_session_endpoint ? '' : ' (no end_session_endpoint)'}`,
          );
        } catch (error) {
          failed.push(upstream.id);
          print(`${upstream.id}: cannot be reached at ${upstream.issuer}: ${(error as Error).message}`);
        }
      }
      if (failed.length) throw new Error(`${failed.join(', ')} cannot be reached`);
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
    options: {
      citizens: { type: 'string', required: true, format: wholeNumber(1, MAX_BENCH_CITIZENS) },
      'password-stdin': { type: 'boolean' },
    },
    async run(container, values) {
      const citizens = toWholeNumber(String(values.citizens));
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
