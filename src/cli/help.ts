/**
 * What `--help` prints: every command, one group's (`yitong clients --help`), or one command's,
 * with summaries wrapped to a terminal's width.
 */
import type { Command, Commands } from './command.ts';

const WIDTH = 80;

export const groupOf = (name: string) => name.split(' ')[0] as string;

export function overview(commands: Commands): string {
  const groups = [...new Set(Object.keys(commands).map(groupOf))];
  const sections = groups.map((group) => listing(commands, group));
  return `Yitong (一通) command line

Usage: yitong <command> [arguments]
  yitong <group> --help lists a group's commands (e.g. yitong clients --help);
  yitong <command> --help explains one (e.g. yitong accounts purge --help).

${sections.join('\n\n')}

Every command reads the same environment as the server (see README: Configuration).
With the embedded database (no DATABASE_URL), stop the server before running a command.
`;
}

/** Undefined when no command starts with `group`. */
export function groupHelp(commands: Commands, group: string): string | undefined {
  if (!Object.keys(commands).some((name) => groupOf(name) === group)) return undefined;
  return `yitong ${group}: its commands (yitong ${group} <command> --help explains one)\n\n${listing(commands, group)}\n`;
}

export const commandHelp = (command: Command) => `${command.usage}\n\n${wrap(command.summary, '')}\n`;

function listing(commands: Commands, group: string): string {
  return Object.entries(commands)
    .filter(([name]) => groupOf(name) === group)
    .map(([, command]) => `  ${command.usage}\n${wrap(command.summary, '      ')}`)
    .join('\n');
}

/** Words on lines of at most WIDTH characters, each line indented. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].map((each) => indent + each).join('\n');
}
