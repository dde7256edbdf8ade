/**
 * What the operator reads when a command fails, and the exit code: 2 for what they typed (the
 * arguments, a file), 1 for the rest. The database's own failures say what to do about them.
 *
 * @example
 *   const { message, exitCode } = describeFailure(error, config);
 *   // DATABASE_URL=postgres://u:pw@127.0.0.1:1/x, nothing listening: exit code 1 and
 *   // 'error: cannot reach the database at 127.0.0.1:1: connection refused; check DATABASE_URL'
 */
import { ManifestError } from '../clients/service.ts';
import type { Config } from '../config.ts';
import { DataDirInUseError } from '../db/database.ts';
import { DatabaseUnreachableError, describeUnreachable, isConnectionFailure } from '../db/errors.ts';
import { isAppError } from '../errors.ts';
import { fileProblem } from './argument-formats.ts';
import { bilingual, UsageError } from './command.ts';

type Where = Pick<Config, 'dataDir' | 'databaseUrl'>;

export function describeFailure(error: unknown, config?: Where): { message: string; exitCode: 1 | 2 } {
  if (error instanceof UsageError) return { message: error.message, exitCode: 2 };
  // A file that went missing between the arguments' check and its use.
  if (isFileError(error)) return { message: fileProblem(error.path, error), exitCode: 2 };
  // A value the service found malformed (a name, a password too short): the argument's fault too.
  const malformed = isAppError(error) && error.status === 400;
  return { message: describe(error, config), exitCode: malformed ? 2 : 1 };
}

function describe(error: unknown, config: Where | undefined): string {
  if (error instanceof DataDirInUseError && config) return `error: ${dataDirInUse(config.dataDir, error)}`;
  if (error instanceof DatabaseUnreachableError) return `error: ${error.message}`;
  if (config?.databaseUrl && isConnectionFailure(error))
    return `error: ${describeUnreachable(config.databaseUrl, error)}`;
  if (isAppError(error)) return `error: ${bilingual(error)}`;
  if (error instanceof ManifestError) return `invalid manifest ${error.message}`;
  if (error instanceof AggregateError) return error.errors.map((inner) => describe(inner, config)).join('\n');
  return `error: ${(error as Error).message}`;
}

/** PGlite allows one process per directory, and the server holds it for as long as it runs. */
const dataDirInUse = (dataDir: string, error: DataDirInUseError) =>
  `the embedded database in DATA_DIR ${dataDir} is in use by ${error.holder ?? 'another process'} (the server, or another command still running), and only one process at a time can open it.
Stop the server first, run the command, then start the server again. To run commands while the server runs, keep the data in PostgreSQL: set DATABASE_URL, for the server and the commands alike.`;

function isFileError(error: unknown): error is NodeJS.ErrnoException & { path: string } {
  const { path, syscall } = (error ?? {}) as { path?: unknown; syscall?: unknown };
  return typeof path === 'string' && typeof syscall === 'string';
}
