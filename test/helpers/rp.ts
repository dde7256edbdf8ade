/**
 * A departmental site as a test sees it: openid-client (a real relying party) plus a Browser
 * that signs in through the provider's pages.
 */
import * as client from 'openid-client';
import { type Browser, formAction, hiddenField, type Page } from './browser.ts';

export const REDIRECT_URI = 'http://localhost:8080/callback';

export interface Site {
  config: client.Configuration;
  clientId: string;
}

export async function discoverSite(issuer: string, clientId: string, clientSecret: string): Promise<Site> {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  return { config, clientId };
}

export interface PendingAuthorization {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

export async function authorizationRequest(
  site: Site,
  options: { scope?: string; redirectUri?: string; extra?: Record<string, string> } = {},
): Promise<PendingAuthorization> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(site.config, {
    redirect_uri: options.redirectUri ?? REDIRECT_URI,
    scope: options.scope ?? 'openid profile phone',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.extra,
  });
  return { url: url.href, verifier, state, nonce };
}

export function exchangeCode(site: Site, callbackUrl: string, pending: PendingAuthorization) {
  return client.authorizationCodeGrant(site.config, new URL(callbackUrl), {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
  });
}

export interface Walk {
  /** The redirect back to the site, with code (or error). */
  callbackUrl: string;
  /** Which of our pages were shown on the way: 'login', 'consent'. */
  pages: string[];
  /** The consent page's HTML, when it was shown. */
  consentHtml?: string;
}

/**
 * Walks an authorization request through the provider like a person would: signs in when asked
 * (with `credentials`), consents when asked (leaving each verified item ticked, as the page
 * offers it, except those in `decline`), and stops at the redirect back to the site.
 */
export async function walkAuthorization(
  browser: Browser,
  url: string,
  credentials?: { idNumber: string; password: string },
  redirectUri = REDIRECT_URI,
  decline: string[] = [],
): Promise<Walk> {
  const pages: string[] = [];
  let consentHtml: string | undefined;
  let page: Page = await browser.visit(url, {}, redirectUri);
  for (let step = 0; step < 5 && !page.url.startsWith(redirectUri); step++) {
    if (page.html.includes('name="password"') && page.url.includes('/interaction/')) {
      if (!credentials) throw new Error('the provider asked to sign in');
      pages.push('login');
      page = await browser.visit(
        new URL(formAction(page.html, '/login'), page.url).href,
        {
          form: {
            _csrf: hiddenField(page.html, '_csrf'),
            id_number: credentials.idNumber,
            password: credentials.password,
          },
        },
        redirectUri,
      );
    } else if (page.html.includes('/consent"')) {
      pages.push('consent');
      consentHtml = page.html;
      page = await browser.visit(
        new URL(formAction(page.html, '/consent'), page.url).href,
        {
          form: {
            _csrf: hiddenField(page.html, '_csrf'),
            ...Object.fromEntries(
              [...page.html.matchAll(/name="(item_[a-z0-9_]+)" checked(?! disabled)/g)]
                .map((match) => match[1] as string)
                .filter((name) => !decline.includes(name.slice('item_'.length)))
                .map((name) => [name, 'on']),
            ),
          },
        },
        redirectUri,
      );
    } else {
      throw new Error(`unexpected page ${page.status} ${page.url}: ${page.html.slice(0, 300)}`);
    }
  }
  return { callbackUrl: page.url, pages, ...(consentHtml && { consentHtml }) };
}

/** The scope of a site with refresh tokens (`offline_access`, asked with `prompt=consent`). */
export const OFFLINE_SCOPE = 'openid profile offline_access';

/** Registers a client-secret site that may have refresh tokens on `yitong`; openid-client's view of it. */
export async function refreshingSite(yitong: {
  issuer: string;
  addClient(manifest: Record<string, unknown>): Promise<{ clientId: string; clientSecret: string }>;
}): Promise<Site> {
  const { clientId, clientSecret } = await yitong.addClient({
    client_name: '公积金查询',
    department: '住房公积金管理中心',
    region_code: '440100',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: OFFLINE_SCOPE,
  });
  return discoverSite(yitong.issuer, clientId, clientSecret);
}
