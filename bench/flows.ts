/**
 * The browser and relying-party side of the flows, for both targets: signing in through the
 * pages (Yitong's form, or the bare engine's development form), code exchange, refresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { expectStatus, Jar, pathOf, type Response, send, type Target } from './http.ts';

export const CLIENT_ID = 'bench';
export const REDIRECT_URI = 'https://bench.example/callback';

export interface Credentials {
  idNumber: string;
  password: string;
}

export function basicAuth(secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64')}` };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizePath(scope: string, challenge: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
  return `/auth?${query}`;
}

const formAction = (html: string) =>
  (html.match(/<form[^>]*action="([^"]+)"/)?.[1] ?? '').replaceAll('&amp;', '&');
const hidden = (html: string, name: string) =>
  html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1] ?? '';

/** Answers the page a person would see; returns the next response. */
function answerPage(
  target: Target,
  jar: Jar,
  page: Response,
  path: string,
  who: Credentials,
): Promise<Response> {
  const html = page.body;
  if (target.name === 'bare') {
    const prompt: Record<string, string> = html.includes('name="login"')
      ? { prompt: 'login', login: who.idNumber, password: who.password }
      : { prompt: 'consent' };
    return send(target, pathOf(formAction(html) || path), { form: prompt, jar });
  }
  if (html.includes('name="password"')) {
    return send(target, formAction(html), {
      form: { _csrf: hidden(html, '_csrf'), id_number: who.idNumber, password: who.password },
      jar,
    });
  }
  const consent = html.match(/action="(\/interaction\/[^"]+\/consent)"/)?.[1];
  if (!consent) throw new Error(`unexpected page at ${path}: ${html.slice(0, 200)}`);
  // Consents to everything offered, each verified item ticked as the page offers it.
  const items = [...html.matchAll(/name="(item_[a-z0-9_]+)" checked/g)].map((match) => [match[1], 'on']);
  return send(target, consent, { form: { _csrf: hidden(html, '_csrf'), ...Object.fromEntries(items) }, jar });
}

/**
 * authorize → (sign in, consent as asked) → code → tokens. With a signed-in jar and remembered
 * consent this is the SSO hop: two requests.
 */
export async function codeFlow(
  target: Target,
  jar: Jar,
  secret: string,
  options: { scope?: string; who?: Credentials; extra?: Record<string, string> } = {},
) {
  const { verifier, challenge } = pkce();
  let path = authorizePath(options.scope ?? 'openid', challenge, options.extra);
  let response = await send(target, path, { jar });
  for (let hops = 0; hops < 12; hops++) {
    if (response.location?.startsWith(REDIRECT_URI)) break;
    if (response.location) {
      path = pathOf(response.location);
      response = await send(target, path, { jar });
    } else if (response.status === 200 && options.who !== undefined) {
      response = await answerPage(target, jar, response, path, options.who);
    } else {
      throw new Error(`flow stopped at ${path}: HTTP ${response.status} ${response.body.slice(0, 200)}`);
    }
  }
  const callback = new URL(response.location ?? '');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback.search}`);
  const tokens = expectStatus(
    await send(target, '/token', {
      headers: basicAuth(secret),
      form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier },
    }),
    200,
  );
  return JSON.parse(tokens.body) as { access_token: string; refresh_token?: string; id_token: string };
}

export async function refresh(target: Target, secret: string, refreshToken: string): Promise<string> {
  const response = expectStatus(
    await send(target, '/token', {
      headers: basicAuth(secret),
      form: { grant_type: 'refresh_token', refresh_token: refreshToken },
    }),
    200,
  );
  return (JSON.parse(response.body) as { refresh_token: string }).refresh_token;
}

export async function clientCredentials(target: Target, secret: string): Promise<string> {
  const response = expectStatus(
    await send(target, '/token', { headers: basicAuth(secret), form: { grant_type: 'client_credentials' } }),
    200,
  );
  return (JSON.parse(response.body) as { access_token: string }).access_token;
}

export { Jar };
