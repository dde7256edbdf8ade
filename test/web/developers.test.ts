/**
 * The developer page states what the provider really does, and the sample relying parties it
 * points to really sign in, read UserInfo, refresh and sign out against a running Yitong.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import test, { type ExecutionContext } from 'ava';
import Koa from 'koa';
import * as client from 'openid-client';
import { DEMO_CITIZEN } from '../../src/accounts/demo-citizen.ts';
import { loadCatalogue } from '../../src/attributes/catalogue.ts';
import { developerRoutes } from '../../src/portal/developers.ts';
import { locale } from '../../src/web/middleware.ts';
import { Browser, formAction, hiddenField } from '../helpers/browser.ts';
import { newCitizen } from '../helpers/people.ts';
import {
  authorizationRequest,
  discoverSite,
  exchangeCode,
  REDIRECT_URI,
  walkAuthorization,
} from '../helpers/rp.ts';
import { startYitong, type Yitong } from '../helpers/yitong.ts';

const SIGNED_OUT = 'http://localhost:8080/';
/** Debian's Python, where python3-authlib installs (the PATH may lead to another one). */
const PYTHON = '/usr/bin/python3';

let yitong: Yitong;
let site: { clientId: string; clientSecret: string };
test.before(async () => {
  yitong = await startYitong('postgres');
  site = await yitong.addClient({
    client_name: '开发者示例',
    department: '测试部门',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [SIGNED_OUT],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid profile phone offline_access',
  });
});
test.after.always(() => yitong?.stop());

async function citizen() {
  const person = newCitizen();
  await yitong.provePhone(await yitong.createCitizen(person), person.phone);
  return person;
}

const developerPage = async (query = '?lang=en') =>
  (await new Browser().visit(`${yitong.issuer}/developers${query}`)).html;

/** The text of the page's table row `id`. */
function row(html: string, id: string): string {
  const match = html.match(new RegExp(`<tr id="${id}">([\\s\\S]*?)</tr>`));
  if (!match) throw new Error(`the page has no row ${id}`);
  return (match[1] as string).replace(/<[^>]+>/g, ' ');
}

/** The seconds the page states for a lifetime. */
function lifetime(html: string, name: string): number {
  const match = html.match(new RegExp(`<tr id="lifetime-${name}">[\\s\\S]*?<data value="(\\d+)">`));
  if (!match) throw new Error(`the page states no lifetime ${name}`);
  return Number(match[1]);
}

test('the page, in Chinese and in English, names this instance’s discovery URL and every scope, claim and acr value it supports', async (t) => {
  const discovery = await (await fetch(`${yitong.issuer}/.well-known/openid-configuration`)).json();
  for (const [query, lang, title] of [
    ['', 'zh-CN', '面向部门开发者'],
    ['?lang=en', 'en', 'For departmental developers'],
  ] as const) {
    const html = await developerPage(query);
    t.true(html.includes(`<html lang="${lang}">`) && html.includes(`<h1>${title}</h1>`), lang);
    t.true(
      html.includes(`<code id="discovery-url">${yitong.issuer}/.well-known/openid-configuration</code>`),
    );
    for (const scope of discovery.scopes_supported) t.true(html.includes(`<tr id="scope-${scope}">`), scope);
    for (const claim of discovery.claims_supported.filter((claim: string) => claim !== 'iss'))
      t.true(html.includes(`<tr id="claim-${claim}">`), claim);
    for (const acr of discovery.acr_values_supported) t.true(html.includes(`<code>${acr}</code>`), acr);
    t.notRegex(html, />\s*(developers|claim|scope)\.[\w:.]+\s*</, 'every message exists');
    t.true(html.includes(DEMO_CITIZEN.idNumber) && html.includes(DEMO_CITIZEN.password), 'test accounts');
  }
  const home = await new Browser().visit(`${yitong.issuer}/`);
  t.true(home.html.includes('<a href="/developers">面向部门开发者</a>'));
});

test('in production the page shows no test accounts', async (t) => {
  const app = new Koa()
    .use(locale)
    .use(
      developerRoutes(
        { issuer: 'https://id.example.gov.cn', production: true },
        await loadCatalogue(new URL('../../attributes/', import.meta.url).pathname),
      ).routes(),
    );
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const html = await (await fetch(`http://127.0.0.1:${port}/developers`)).text();
  t.true(html.includes('https://id.example.gov.cn/.well-known/openid-configuration'));
  t.false(html.includes(DEMO_CITIZEN.idNumber) || html.includes(DEMO_CITIZEN.password));
});

test('the lifetimes on the page are the ones the provider gives its tokens', async (t) => {
  const rp = await discoverSite(yitong.issuer, site.clientId, site.clientSecret);
  const pending = await authorizationRequest(rp, {
    scope: 'openid offline_access',
    extra: { prompt: 'consent' },
  });
  const walk = await walkAuthorization(new Browser(), pending.url, await citizen());
  const tokens = await exchangeCode(rp, walk.callbackUrl, pending);
  const idToken = tokens.claims();
  const refreshToken = await client.tokenIntrospection(rp.config, tokens.refresh_token as string);
  const html = await developerPage();

  t.is(tokens.expires_in, lifetime(html, 'accessToken'));
  t.is(Number(idToken?.exp) - Number(idToken?.iat), lifetime(html, 'idToken'));
  t.true(refreshToken.active);
  t.is(Number(refreshToken.exp) - Number(refreshToken.iat), lifetime(html, 'refreshToken'));
});

test('the page tells sites to refetch the JWKS on an unknown kid and to cache it no longer than its Cache-Control says', async (t) => {
  const maxAge = Number(
    /max-age=(\d+)/.exec((await fetch(`${yitong.issuer}/jwks`)).headers.get('cache-control') ?? '')?.[1],
  );
  const html = await developerPage();
  const keys = /<p id="signing-keys">([^<]*)<\/p>/.exec(html)?.[1] ?? '';
  t.regex(keys, /published in the JWKS 24 hours before it signs/);
  t.regex(keys, /When a token names a kid your cached JWKS lacks, fetch the JWKS again/);
  t.true(keys.includes(`(${maxAge / 60} minutes)`), keys);
  t.regex(await developerPage(''), /<p id="signing-keys">[^<]*24 小时后才开始签名[^<]*请重新获取 JWKS/);
});

interface SampleResult {
  id_token_claims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
  expires_in: number;
  refreshed_expires_in: number;
  logout_url: string;
}

/**
 * Runs a sample as a developer would: it prints the authorization URL, a person signs in (the
 * Browser), and the address the browser was sent back to is pasted into the sample.
 */
async function runSample(
  t: ExecutionContext,
  command: string,
  file: string,
  person: ReturnType<typeof newCitizen>,
) {
  const child = spawn(command, [file], {
    env: {
      ...process.env,
      YITONG_ISSUER: yitong.issuer,
      CLIENT_ID: site.clientId,
      CLIENT_SECRET: site.clientSecret,
      REDIRECT_URI,
      POST_LOGOUT_REDIRECT_URI: SIGNED_OUT,
    },
  });
  t.teardown(() => child.kill());
  const closed = once(child, 'close');
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const authorizationUrl = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    });
    void closed.then(() => reject(new Error(`${file} printed no authorization URL: ${stderr}`)));
  });
  const browser = new Browser();
  const walk = await walkAuthorization(browser, authorizationUrl, person);
  child.stdin.end(`${walk.callbackUrl}\n`);
  const [code] = await closed;
  if (code !== 0) throw new Error(`${file} failed (${code}): ${stderr}`);
  return { browser, result: JSON.parse(stdout.slice(stdout.indexOf('\n') + 1)) as SampleResult };
}

const authlibMissing = () =>
  spawnSync(PYTHON, ['-c', 'import authlib, requests']).status !== 0
    ? `${PYTHON} cannot import authlib and requests (apt-get install python3-authlib python3-requests)`
    : undefined;

for (const sample of [
  { name: 'Node (openid-client)', command: process.execPath, file: 'clients/samples/node/sign-in.ts' },
  {
    name: 'Python (Authlib)',
    command: PYTHON,
    file: 'clients/samples/python/sign_in.py',
    missing: authlibMissing,
  },
]) {
  test(`the ${sample.name} sample signs in, reads UserInfo, refreshes and signs out, as the page says`, async (t) => {
    const missing = sample.missing?.();
    if (missing) {
      t.log(`${missing}: the Python sample was not run`);
      return t.pass();
    }
    const person = await citizen();
    const { browser, result } = await runSample(t, sample.command, sample.file, person);
    const html = await developerPage();

    t.like(result.userinfo, { name: person.name, phone_number: `+86${person.phone}`, identity_level: 1 });
    t.is(result.id_token_claims.acr, 'urn:yitong:acr:pwd');
    t.is(result.expires_in, lifetime(html, 'accessToken'));
    t.is(result.refreshed_expires_in, lifetime(html, 'accessToken'));
    // Each claim received is where the page says it is: the ID token, UserInfo, or both.
    for (const claim of new Set([...Object.keys(result.id_token_claims), ...Object.keys(result.userinfo)])) {
      if (!html.includes(`<tr id="claim-${claim}">`)) continue; // iss, aud, exp, nonce …: the protocol's own
      const where = row(html, `claim-${claim}`);
      const inIdToken = where.includes('ID token only') || where.includes('ID token and UserInfo');
      const inUserinfo = where.includes('UserInfo only') || where.includes('ID token and UserInfo');
      t.is(claim in result.id_token_claims, inIdToken, `${claim} in the ID token`);
      t.is(claim in result.userinfo, inUserinfo, `${claim} at UserInfo`);
    }

    const logout = await browser.visit(result.logout_url);
    t.true(logout.html.includes('op.logoutForm'), 'Yitong asks the person to confirm');
    const signedOut = await browser.visit(
      new URL(formAction(logout.html, '/session/end/confirm'), yitong.issuer).href,
      { form: { xsrf: hiddenField(logout.html, 'xsrf'), logout: 'yes' } },
      SIGNED_OUT,
    );
    t.true(signedOut.url.startsWith(SIGNED_OUT), 'and sends the browser back to the site');
  });
}
