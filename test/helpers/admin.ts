/**
 * Administrators as tests need them: a person with an admin grant signed in to the console with
 * two factors, counter staff signed in at the desk, a department site's client-credentials token for the admin API, and calls to it;
 * and a site a department registered itself with the token an administrator gave it.
 */
import * as client from 'openid-client';
import { issueInitialAccessToken } from '../../src/oidc/registration.ts';
import { enrolTotp, signInTo } from './account.ts';
import { Browser, type Page } from './browser.ts';
import { newCitizen } from './people.ts';
import { discoverSite, REDIRECT_URI } from './rp.ts';
import type { Authenticator } from './totp.ts';
import type { Yitong } from './yitong.ts';

export interface ConsoleAdmin {
  sub: string;
  person: ReturnType<typeof newCitizen>;
  authenticator: Authenticator;
  browser: Browser;
  /** The console's first page. */
  page: Page;
}

/** A person born in `born` with an authenticator app; made `role` of `region` when given. */
export async function withAuthenticator(
  yitong: Yitong,
  born = '440103',
  grant?: { role: string; region: string },
) {
  const person = newCitizen(born);
  const sub = await yitong.createCitizen(person);
  if (grant) await yitong.server.container.admin.addAdmin(person.idNumber, grant.role, grant.region);
  const setup = new Browser();
  await signInTo(setup, yitong.issuer, person);
  const { authenticator } = await enrolTotp(setup, yitong.issuer);
  return { sub, person, authenticator };
}

/** A person of `region` made counter staff of `hall` serving it, with an authenticator app, signed in at /staff. */
export async function deskStaff(yitong: Yitong, hall = '天河区政务服务中心', region = '440106') {
  const { sub, person, authenticator } = await withAuthenticator(yitong, region);
  await yitong.server.container.levels.addStaff(person.idNumber, hall, region);
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, { ...person, authenticator }, '/staff');
  return { sub, person, browser, page };
}

/** A person born in `born`, made `role` of `region`, with an authenticator app, signed in to /admin. */
export async function consoleAdmin(
  yitong: Yitong,
  role: string,
  region: string,
  born = '440103',
): Promise<ConsoleAdmin> {
  const { sub, person, authenticator } = await withAuthenticator(yitong, born, { role, region });
  const browser = new Browser();
  const page = await signInTo(browser, yitong.issuer, { ...person, authenticator }, '/admin');
  return { sub, person, authenticator, browser, page };
}

/** A client-credentials token of a department site of `region`, registered by the operator with `scope`. */
export async function departmentToken(yitong: Yitong, region: string, scope: string): Promise<string> {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '数据局自动化',
    department: '政务服务数据管理局',
    region_code: region,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['client_credentials'],
    scope: `openid ${scope}`,
  });
  const site = await discoverSite(yitong.issuer, clientId, clientSecret);
  return (await client.clientCredentialsGrant(site.config, { scope })).access_token;
}

/** One call to the admin API with a bearer token; a string body is sent as it is. */
export function adminApi(
  yitong: Yitong,
  token: string | undefined,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${yitong.issuer}/admin/api${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
}

/** Searches accounts through the API (a POST: numbers stay out of URLs). */
export const searchPeople = (yitong: Yitong, token: string, q: string) =>
  adminApi(yitong, token, '/people/search', { method: 'POST', body: { q } });

/** A site `department` registered itself (RFC 7591) with an initial access token for 440100: the answer. */
export async function selfRegistered(
  yitong: Yitong,
  department: string,
  site: Record<string, unknown>,
): Promise<{
  client_id: string;
  client_secret: string;
  registration_access_token: string;
  registration_client_uri: string;
}> {
  const { provider, clientsRepo } = yitong.server.container;
  const initial = await issueInitialAccessToken(
    provider,
    clientsRepo,
    { department, regionCode: '440100', scopes: 'openid' },
    'cli',
  );
  const answer = await fetch(`${yitong.issuer}${provider.pathFor('registration')}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${initial}`, 'content-type': 'application/json' },
    body: JSON.stringify(site),
  });
  return answer.json();
}
