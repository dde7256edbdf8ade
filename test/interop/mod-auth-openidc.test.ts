/**
 * A relying party nobody on the team wrote: Debian's Apache with mod_auth_openidc in front of an
 * old site, on a spare port. With its usual `openid profile email` (the site is registered
 * without `email`), it signs the person in (getting the claims and a refresh token), refreshes
 * (asking again for `email`, which is dropped as at the sign-in) and logs out
 * through Yitong. Needs `apt-get install apache2 libapache2-mod-auth-openidc` (.ci/run installs them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Browser, formAction, hiddenField, submit } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import { freePort, startYitong, type Yitong } from '../helpers/yitong.ts';

const MODULES = '/usr/lib/apache2/modules';
const available = existsSync(`${MODULES}/mod_auth_openidc.so`) && existsSync('/usr/sbin/apache2');

let yitong: Yitong;
let apache: ChildProcess | undefined;
let dir: string;
let site: string;

test.before(async () => {
  if (!available) return;
  yitong = await startYitong('postgres');
  const port = await freePort();
  site = `http://localhost:${port}`;
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '旧系统（Apache）',
    department: '市档案馆',
    region_code: '440100',
    redirect_uris: [`${site}/protected/redirect_uri`],
    post_logout_redirect_uris: [`${site}/loggedout.html`],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile offline_access',
  });
  dir = await mkdtemp(join(tmpdir(), 'yitong-apache-'));
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
      'ServerName localhost',
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
      `OIDCProviderMetadataURL ${yitong.issuer}/.well-known/openid-configuration`,
      `OIDCClientID ${clientId}`,
      `OIDCClientSecret ${clientSecret}`,
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
    ].join('\n'),
  );
  apache = spawn('/usr/sbin/apache2', ['-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], {
    stdio: 'inherit',
  });
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`${site}/loggedout.html`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test.after.always(async () => {
  if (apache && apache.exitCode === null) {
    const exited = new Promise((resolve) => apache?.once('exit', resolve));
    apache.kill('SIGTERM');
    await exited;
  }
  await yitong?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Apache mod_auth_openidc signs in with openid profile email, refreshes its tokens, and logs out', async (t) => {
  if (!available) return t.fail('apt-get install apache2 libapache2-mod-auth-openidc');
  const person = newCitizen();
  await yitong.createCitizen(person);
  const browser = new Browser();
  let page = await browser.visit(`${site}/protected/`);
  t.regex(page.html, /name="password"/, 'sent to Yitong’s sign-in page');
  page = await submit(browser, page, '/login', { id_number: person.idNumber, password: person.password });
  t.notRegex(page.html, /电子邮箱/, 'email is not offered: the site may not have it');
  page = await submit(browser, page, '/consent');
  t.is(page.html, 'the protected page\n');

  // What the module holds for the site: the person's claims, and a refresh token.
  const held = async () =>
    JSON.parse((await browser.visit(`${site}/protected/redirect_uri?info=json`)).html) as {
      access_token?: string;
      refresh_token?: string;
      userinfo?: Record<string, unknown>;
    };
  const info = await held();
  t.is(info.userinfo?.name, person.name);
  t.truthy(info.refresh_token, 'offline_access granted');
  t.is(info.userinfo?.email, undefined);

  // The module refreshes (its refresh hook, which the application calls with the current token):
  // a new access token, and the refresh token rotated.
  page = await browser.visit(
    `${site}/protected/redirect_uri?refresh=${encodeURIComponent('/protected/')}&access_token=${encodeURIComponent(String(info.access_token))}`,
  );
  t.is(page.html, 'the protected page\n');
  const refreshed = await held();
  t.truthy(refreshed.access_token);
  t.not(refreshed.access_token, info.access_token, 'a new access token');
  t.not(refreshed.refresh_token, info.refresh_token, 'the refresh token rotated');

  page = await browser.visit(
    `${site}/protected/redirect_uri?logout=${encodeURIComponent(`${site}/loggedout.html`)}`,
  );
  t.true(page.html.includes('op.logoutForm'), 'Yitong asks to confirm');
  page = await browser.visit(new URL(formAction(page.html, '/session/end/confirm'), yitong.issuer).href, {
    form: { xsrf: hiddenField(page.html, 'xsrf'), logout: 'yes' },
  });
  t.true(
    page.html === 'logged out\n' || page.html.includes('您已退出一通账号及所有部门网站'),
    page.html.slice(0, 200),
  );
  const after = await browser.visit(`${site}/protected/`);
  t.regex(after.html, /name="password"/, 'signed out at the site and at Yitong');
});
