/** What a `yitong` command is, and what commands share: output, standard input, usage errors. */
import type { Container } from '../container.ts';

export interface Command {
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

export type Commands = Record<string, Command>;

export const print = (line: string) => process.stdout.write(`${line}\n`);

/** Wrong arguments: the message says what to type instead (exit code 2). */
export class UsageError extends Error {}
export class AuditChainError extends Error {}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new UsageError('pipe the value on standard input, e.g. `printf %s "$PASSWORD" | yitong …`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
