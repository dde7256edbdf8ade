/**
 * Debian's Apache with mod_auth_openidc in front of an old site, on a spare port: a relying party
 * nobody on the team wrote. `/protected/` needs a sign-in; `/loggedout.html` does not. Needs
 * `apt-get install apache2 libapache2-mod-auth-openidc` (.ci/run installs them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './yitong.ts';

const MODULES = '/usr/lib/apache2/modules';
export const apacheAvailable =
  existsSync(`${MODULES}/mod_auth_openidc.so`) && existsSync('/usr/sbin/apache2');

export interface ApacheSite {
  /** The site's origin, e.g. http://localhost:41234. */
  site: string;
  stop(): Promise<void>;
}

/** The site's address, before it runs: its redirect URI goes into the manifest first. */
export async function apacheAddress(host = 'localhost'): Promise<string> {
  return `http://${host}:${await freePort()}`;
}

/**
 * Starts Apache at `site` (from `apacheAddress`) as the registered site `clientId`, asking for
 * `openid profile email offline_access` with `prompt=consent`; `directives` are added last.
 */
export async function startApache(
  site: string,
  oidc: { issuer: string; clientId: string; clientSecret: string },
  directives: string[] = [],
): Promise<ApacheSite> {
  const { hostname, port } = new URL(site);
  const dir = await mkdtemp(join(tmpdir(), 'yitong-apache-'));
  // Apache's workers run as nobody: the pages must be readable by them.
  await chmod(dir, 0o755);
  await mkdir(join(dir, 'www', 'protected'), { recursive: true });
  await writeFile(join(dir, 'www', 'protected', 'index.html'), 'the protected page\n');
  await writeFile(join(dir, 'www', 'loggedout.html'), 'logged out\n');
  const module = (name: string) => `LoadModule ${name}_module ${MODULES}/mod_${name}.so`;
  await writeFile(
    join(dir, 'httpd.conf'),
    [
      `ServerRoot ${dir}`,
      `Listen 127.0.0.1:${port}`,
      `ServerName ${hostname}`,
      `PidFile ${dir}/httpd.pid`,
      `ErrorLog ${dir}/error.log`,
      'LogLevel warn auth_openidc:info',
      module('mpm_event'),
      module('authn_core'),
      module('authz_core'),
      module('authz_user'),
      module('mime'),
      'TypesConfig /etc/mime.types',
      module('dir'),
      `LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so`,
      'User nobody',
      'Group nogroup',
      `DocumentRoot ${dir}/www`,
      '<Directory />',
      '  AllowOverride None',
      '</Directory>',
      `<Directory ${dir}/www>`,
      '  Require all granted',
      '</Directory>',
      'DirectoryIndex index.html',
      `OIDCProviderMetadataURL ${oidc.issuer}/.well-known/openid-configuration`,
      `OIDCClientID ${oidc.clientId}`,
      `OIDCClientSecret ${oidc.clientSecret}`,
      `OIDCRedirectURI ${site}/protected/redirect_uri`,
      `OIDCCryptoPassphrase ${randomBytes(16).toString('hex')}`,
      'OIDCScope "openid profile email offline_access"',
      'OIDCAuthRequestParams prompt=consent',
      'OIDCPKCEMethod S256',
      'OIDCInfoHook iat access_token access_token_expires refresh_token userinfo session',
      'OIDCSessionType client-cookie',
      '<Location /protected>',
      '  AuthType openid-connect',
      '  Require valid-user',
      '</Location>',
      ...directives,
    ].join('\n'),
  );
  const apache: ChildProcess = spawn('/usr/sbin/apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: 'inherit',
  });
  const exited = new Promise((resolve) => {
    apache.once('close', resolve);
    apache.once('error', resolve);
  });
  const running = () => apache.exitCode === null && apache.signalCode === null;
  async function stop() {
    if (running()) apache.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
  for (let i = 0; i < 50 && running(); i++) {
    const up = await fetch(`${site}/loggedout.html`, { signal: AbortSignal.timeout(1000) }).then(
      (answer) => answer.ok,
      () => false,
    );
    if (up) return { site, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Not up (its port taken, a module missing): say why, and leave nothing behind.
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  await stop();
  throw new Error(`Apache did not start at ${site}: ${log.slice(-2000)}`);
}
