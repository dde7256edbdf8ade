/**
 * `yitong <command>`: operator commands over the same configuration as the server.
 *
 * @example
 *   yitong clients sync clients/
 *   echo 'a long password' | yitong citizen create --id-number 11010519491231002X --name 张三 --password-stdin
 */
import { type Config, loadConfig } from '../config.ts';
import { type Container, createContainer, createLogger } from '../container.ts';
import { readArguments } from './arguments.ts';
import type { Command } from './command.ts';
import { clientCommands } from './commands-clients.ts';
import { keyCommands } from './commands-keys.ts';
import { legalPersonCommands } from './commands-legal.ts';
import { opsCommands } from './commands-ops.ts';
import { peopleCommands } from './commands-people.ts';
import { commandHelp, groupHelp, overview } from './help.ts';
import { describeFailure } from './problems.ts';

const COMMANDS: Record<string, Command> = {
  ...opsCommands,
  ...keyCommands,
  ...clientCommands,
  ...peopleCommands,
  ...legalPersonCommands,
};

const HELP = ['--help', '-h', 'help'];

export async function runCli(argv: string[]): Promise<number> {
  const name = [argv.slice(0, 2).join(' '), argv[0] ?? ''].find((candidate) => COMMANDS[candidate]);
  if (!name) return answerWithoutCommand(argv);
  const command = COMMANDS[name] as Command;
  const args = argv.slice(name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  return run(command, args);
}

/** `yitong`, `yitong --help`, `yitong clients --help`, or a command that does not exist. */
function answerWithoutCommand(argv: string[]): number {
  const [first = '', second] = argv;
  if (argv.length === 0 || HELP.includes(first)) {
    process.stdout.write(overview(COMMANDS));
    return 0;
  }
  const group = groupHelp(COMMANDS, first);
  if (group && second !== undefined && HELP.includes(second)) {
    process.stdout.write(group);
    return 0;
  }
  const what =
    group && second === undefined ? `yitong ${first} needs a command` : `unknown command: ${argv.join(' ')}`;
  process.stderr.write(`${what}\n\n${group ?? overview(COMMANDS)}`);
  return 2;
}

/** Arguments first, so that a typo never waits for (or is hidden by) the database. */
async function run(command: Command, args: string[]): Promise<number> {
  let config: Readonly<Config> | undefined;
  let container: Container | undefined;
  try {
    const { values, positionals } = readArguments(command, args);
    config = loadConfig();
    // The server's log lines are not for a person at a terminal: what went wrong is the one
    // line below ("database unreachable: answering 503…" said nothing true of a command).
    container = await createContainer(config, createLogger({ logLevel: 'silent' }), {
      onMigrationApplied: command.onMigrationApplied,
    });
    await command.run(container, values, positionals);
    return 0;
  } catch (error) {
    const { message, exitCode } = describeFailure(error, config);
    process.stderr.write(`${message}\n`);
    return exitCode;
  } finally {
    await container?.close();
  }
}

if (import.meta.main) process.exitCode = await runCli(process.argv.slice(2));
