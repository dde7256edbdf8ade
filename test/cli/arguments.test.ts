import test from 'ava';
import { readArguments } from '../../src/cli/arguments.ts';
import { UsageError } from '../../src/cli/command.ts';
import { keyCommands } from '../../src/cli/commands-keys.ts';

const retire = keyCommands['keys retire'];
const kid = (first: string) => `${first}${'A'.repeat(42)}`;

test('a kid that begins with "-" (one in 64 does) is a kid, not an unknown option', (t) => {
  if (!retire) return t.fail('no keys retire');
  for (const value of [kid('-'), `--${'A'.repeat(41)}`, kid('A')])
    t.deepEqual(readArguments(retire, [value]).positionals, [value], value);
  t.deepEqual(readArguments(retire, ['--', kid('-')]).positionals, [kid('-')], 'with -- as well');
  // Anything else that begins with "-" is still an option, and refused as one.
  const error = t.throws(() => readArguments(retire, ['-x']), { instanceOf: UsageError });
  t.regex(error?.message ?? '', /Unknown option '-x'[\s\S]*usage: yitong keys retire <kid>/);
});
