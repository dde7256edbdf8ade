/**
 * `yitong <command>`: operator commands over the same configuration as the server.
 *
 * @example
 *   yitong clients sync clients/
 *   echo 'a long password' | yitong citizen create --id-number 11010519491231002X --name 张三 --password-stdin
 */
import { parseArgs } from 'node:util';
import { ManifestError } from '../clients/service.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { type Container, createContainer, createLogger } from '../container.ts';
import { DataDirInUseError } from '../db/database.ts';
import { isAppError } from '../errors.ts';
import { translate } from '../messages/index.ts';
import { AuditChainError, type Command, print, UsageError } from './command.ts';
import { clientCommands } from './commands-clients.ts';
import { legalPersonCommands } from './commands-legal.ts';
import { opsCommands } from './commands-ops.ts';
import { peopleCommands } from './commands-people.ts';

const COMMANDS: Record<string, Command> = {
  ...opsCommands,
  ...clientCommands,
  ...peopleCommands,
  ...legalPersonCommands,
};

function help(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `Yitong (一通) command line\n\nUsage:\n${lines.join('\n')}\n\nEvery command reads the same environment as the server (see README: Configuration).\n`;
}

export async function runCli(argv: string[]): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((candidate) => COMMANDS[candidate]);
  if (!name) {
    const wantsHelp = argv.length === 0 || ['--help', '-h', 'help'].includes(argv[0] as string);
    (wantsHelp ? process.stdout : process.stderr).write(
      wantsHelp ? help() : `unknown command: ${argv.join(' ')}\n\n${help()}`,
    );
    return wantsHelp ? 0 : 2;
  }
  const command = COMMANDS[name] as Command;
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    print(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let container: Container | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== (command.positionals ?? 0)) throw new UsageError(`usage: ${command.usage}`);
    command.check?.(values);
    const config = loadConfig();
    container = await createContainer(config, createLogger({ logLevel: 'warn' }));
    await command.run(container, values, positionals);
    return 0;
  } catch (error) {
    process.stderr.write(`${describe(error)}\n`);
    return error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? 2
      : 1;
  } finally {
    await container?.close();
  }
}

function describe(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof AuditChainError) return `error: ${error.message}`;
  if (error instanceof ConfigError || error instanceof DataDirInUseError) return `error: ${error.message}`;
  if (isAppError(error))
    return `error: ${translate('en', error.code, error.params)} (${translate('zh-CN', error.code, error.params)})`;
  if (error instanceof ManifestError) return `invalid manifest ${error.message}`;
  if (error instanceof AggregateError) return error.errors.map(describe).join('\n');
  return `error: ${(error as Error).message}`;
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
