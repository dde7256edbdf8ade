/**
 * Forward-only SQL migrations: `migrations/NNNN_<what>.sql`, applied in name order, each in one
 * transaction together with its row in `schema_migrations`. Never edit a file once it has landed.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Database } from './database.ts';
import { isConnectionFailure } from './errors.ts';

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url);

async function listMigrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((name) => /^\d{4}_[\w-]+\.sql$/.test(name)).sort();
}

/** Names of migrations not applied yet; `/readyz` is not ready while this is non-empty. */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const files = await listMigrationFiles();
  const rows = await database.db
    .selectFrom('schema_migrations')
    .select('name')
    .execute()
    .catch((error: { code?: string }) => {
      // No ledger yet (undefined_table): everything is pending. Anything else (the database is
      // unreachable) is not an answer about migrations.
      if (error.code === '42P01') return [];
      throw error;
    });
  const applied = new Set(rows.map((row) => row.name));
  return files.filter((name) => !applied.has(name));
}

/** Told after each migration applied: its name, and how many of the pending ones are done. */
export type OnMigrationApplied = (name: string, progress: { done: number; total: number }) => void;

/** Applies every pending migration; safe to run from several processes at once (each takes a lock and re-checks). */
export async function migrate(
  database: Database,
  onApplied: OnMigrationApplied = () => {},
): Promise<string[]> {
  const done: string[] = [];
  const pending = await pendingMigrations(database);
  for (const [index, name] of pending.entries()) {
    const script = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
    const applied = await database.applyMigration(name, script).catch((error: Error) => {
      // An unreachable database is not a faulty migration: say which one only when its SQL failed.
      if (isConnectionFailure(error)) throw error;
      throw new Error(`migration ${name} failed: ${error.message}`, { cause: error });
    });
    if (applied) {
      done.push(name);
      onApplied(name, { done: index + 1, total: pending.length });
    }
  }
  return done;
}
