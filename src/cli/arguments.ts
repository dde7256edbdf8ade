/**
 * A command's arguments, read and checked before anything is opened: an unknown flag, a missing
 * argument or a value in the wrong format is a usage error (exit code 2) that names it and shows
 * the command's usage, whether or not the database could be reached.
 *
 * @example
 *   readArguments(commands['admin add'], ['--id-number', '11010519491231002X']);
 *   // UsageError: --role and --region-code are required
 *   //             usage: yitong admin add --id-number N --role admin|auditor --region-code R
 */
import { parseArgs } from 'node:util';
import { listed } from './argument-formats.ts';
import { type Command, UsageError, type Values } from './command.ts';

export function readArguments(command: Command, args: string[]): { values: Values; positionals: string[] } {
  const { values, positionals } = parse(command, args);
  const problems = [
    ...missingArguments(command, values, positionals),
    ...wrongFormats(command, values, positionals),
  ];
  if (problems.length > 0) throw usageError(command, problems.join('\n'));
  return { values, positionals };
}

function parse(command: Command, args: string[]) {
  const options = Object.fromEntries(
    Object.entries(command.options ?? {}).map(([name, { type }]) => [name, { type }]),
  );
  try {
    return parseArgs({
      args: dashedValuesLast(command, args),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    if (!(error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw error;
    throw usageError(command, (error as Error).message);
  }
}

/**
 * A value may begin with "-" (a kid is base64url, `-` included), which parseArgs reads as an
 * option. From the first argument that no option names and that a positional's format takes, the
 * rest are values when none of them is an option: they go after "--", in the order given.
 */
function dashedValuesLast(command: Command, args: string[]): string[] {
  const formats = (command.positionals ?? []).flatMap(({ format }) => (format ? [format] : []));
  const options = Object.keys(command.options ?? {}).map((name) => `--${name}`);
  const isOption = (arg: string) => options.some((option) => arg === option || arg.startsWith(`${option}=`));
  const first = args.findIndex(
    (arg) => arg.startsWith('-') && !isOption(arg) && formats.some((format) => format(arg) === undefined),
  );
  if (first < 0 || args.includes('--') || args.slice(first).some(isOption)) return args;
  return [...args.slice(0, first), '--', ...args.slice(first)];
}

function missingArguments(command: Command, values: Values, positionals: string[]): string[] {
  const expected = command.positionals ?? [];
  const missing = [
    ...expected.slice(positionals.length).map(({ name }) => name),
    ...Object.entries(command.options ?? {})
      .filter(([name, flag]) => flag.required && !values[name])
      .map(([name]) => `--${name}`),
  ];
  const extra = positionals.slice(expected.length);
  return [
    ...(missing.length > 0
      ? [`${listed(missing, 'and')} ${missing.length > 1 ? 'are' : 'is'} required`]
      : []),
    ...(extra.length > 0 ? [`unexpected argument: ${extra.join(' ')}`] : []),
  ];
}

function wrongFormats(command: Command, values: Values, positionals: string[]): string[] {
  const checks = [
    ...(command.positionals ?? []).map(({ name, format }, index) => ({
      name,
      format,
      value: positionals[index],
    })),
    ...Object.entries(command.options ?? {}).map(([name, { format }]) => ({
      name: `--${name}`,
      format,
      value: values[name],
    })),
  ];
  return checks.flatMap(({ name, format, value }) => {
    const reason = typeof value === 'string' && value !== '' ? format?.(value) : undefined;
    return reason ? [`${name}: ${reason}`] : [];
  });
}

const usageError = (command: Command, reason: string) => new UsageError(`${reason}\nusage: ${command.usage}`);
