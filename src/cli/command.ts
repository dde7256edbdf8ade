/** What a `yitong` command is, and what commands share: output, standard input, usage errors. */
import type { Container } from '../container.ts';
import type { OnMigrationApplied } from '../db/migrate.ts';
import type { AppError } from '../errors.ts';
import { translate } from '../messages/index.ts';

/** Why a value is wrong, in one line; undefined when it is fine. */
export type Format = (value: string) => string | undefined;

export interface Flag {
  type: 'string' | 'boolean';
  required?: true;
  /** Checked, when the flag is given, before the database is opened. */
  format?: Format;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  usage: string;
  summary: string;
  options?: Record<string, Flag>;
  /** Every positional argument, in order, all required: its name as `usage` shows it. */
  positionals?: Array<{ name: string; format?: Format }>;
  run(container: Container, values: Values, positionals: string[]): Promise<void>;
  /** Told of each migration applied as the database opens, before `run` (`yitong migrate` shows them). */
  onMigrationApplied?: OnMigrationApplied;
}

export type Commands = Record<string, Command>;

export const print = (line: string) => process.stdout.write(`${line}\n`);

/** Wrong arguments: the message says what to type instead (exit code 2). */
export class UsageError extends Error {}
export class AuditChainError extends Error {}

/** A domain error as the operator reads it: English, then Chinese. */
export const bilingual = (error: Pick<AppError, 'code' | 'params'>) =>
  `${translate('en', error.code, error.params)} (${translate('zh-CN', error.code, error.params)})`;

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('pipe the value on standard input, e.g. `printf %s "$PASSWORD" | yitong …`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
