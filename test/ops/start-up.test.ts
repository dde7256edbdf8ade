/**
 * The server (`npm start`) and the demo (`npm run demo`) refusing to start: one line saying
 * what is wrong and what to do, never a stack trace, never DATABASE_URL's password.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';

function start(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [script], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', PORT: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const dataDir = () => mkdtempSync(join(tmpdir(), 'yitong-start-'));

test('an unreachable PostgreSQL: the same line as the CLI gives, naming DATABASE_URL without its password', (t) => {
  const refused = start('src/main.ts', {
    DATA_DIR: dataDir(),
    DATABASE_URL: 'postgres://yitong:secretpw@127.0.0.1:1/yitong',
  });
  t.is(refused.status, 1);
  t.is(
    refused.stderr,
    'Yitong cannot start: cannot reach the database at 127.0.0.1:1: connection refused; check DATABASE_URL\n',
  );
  t.false(`${refused.stdout}${refused.stderr}`.includes('secretpw'));
});
