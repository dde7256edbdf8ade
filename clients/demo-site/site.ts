/**
 * A demo departmental website: a small Koa relying party of Yitong that shows single sign-on
 * (code flow + PKCE) and single logout (RP-initiated and back-channel).
 *
 * @example
 *   const site = await startDemoSite({
 *     issuer: 'http://localhost:3000', clientId: 'demo-tax', clientSecret: '…', port: 4001, title: '省税务局（演示）',
 *   });
 *   // sign in at site.url; after single logout, site.logoutTokens holds the verified { sid, sub }
 *   await site.close();
 *
 * Run directly (docker-compose does):
 *   ISSUER=… CLIENT_ID=… CLIENT_SECRET=… PORT=4001 [SITE_TITLE=…] [HOST=0.0.0.0] [ISSUER_INTERNAL=…] \
 *     node clients/demo-site/site.ts
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import * as client from 'openid-client';
import {
  connectToProvider,
  InvalidLogoutToken,
  type LogoutTokenClaims,
  type ProviderConnection,
  verifyLogoutToken,
} from './provider.ts';
import { errorPage, homePage, personView, STYLESHEET } from './views.ts';

export interface DemoSiteOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  port: number;
  title: string;
  host?: string;
  scope?: string;
  /**
   * Where this site reaches the provider server-to-server when the browser's issuer URL does not
   * lead there from here (e.g. http://provider:3000 while browsers use http://localhost:3000).
   */
  internalIssuer?: string;
}

export interface DemoSite {
  url: string;
  logoutTokens: Array<{ sid?: string; sub?: string }>;
  close(): Promise<void>;
}

interface LocalSession {
  claims: Record<string, unknown>;
  idToken: string;
  sub: string;
  providerSid?: string;
}

interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  expiresAt: number;
}

/** What the route handlers share; one per started site. */
interface SiteState {
  url: string;
  title: string;
  scope: string;
  provider: ProviderConnection;
  sessions: Map<string, LocalSession>;
  pendingLogins: Map<string, PendingLogin>;
  logoutTokens: LogoutTokenClaims[];
}

// Browsers share cookies across ports of one host: each demo site names its cookies by its port.
const sessionCookie = (site: SiteState) => `demo_sid_${new URL(site.url).port}`;
const loginCookie = (site: SiteState) => `demo_login_${new URL(site.url).port}`;
const LOGIN_TTL_MS = 10 * 60 * 1000;
const BODY_LIMIT_BYTES = 64 * 1024;
// Not Secure: the demo runs on http://localhost.
const COOKIE_OPTIONS = { httpOnly: true, sameSite: 'lax', secure: false, overwrite: true } as const;

export async function startDemoSite(options: DemoSiteOptions): Promise<DemoSite> {
  const server = createServer();
  await listen(server, options.port, options.host ?? '127.0.0.1');
  const site: SiteState = {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    title: options.title,
    scope: options.scope ?? 'openid profile phone',
    provider: connectToProvider(options),
    sessions: new Map(),
    pendingLogins: new Map(),
    logoutTokens: [],
  };
  const router = new Router()
    .get('/', (ctx) => showHome(site, ctx))
    .get('/style.css', serveStylesheet)
    .get('/login', (ctx) => startLogin(site, ctx))
    .get('/callback', (ctx) => finishLogin(site, ctx))
    .post('/logout', (ctx) => logout(site, ctx))
    .post('/backchannel-logout', (ctx) => backchannelLogout(site, ctx));
  const app = new Koa()
    .use(securityHeaders(options.issuer))
    .use(renderUnexpectedErrors(options.title))
    .use(router.routes())
    .use(router.allowedMethods());
  server.on('request', app.callback());

  return {
    url: site.url,
    logoutTokens: site.logoutTokens,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await site.provider.close();
    },
  };
}

function showHome(site: SiteState, ctx: Context): void {
  const session = site.sessions.get(ctx.cookies.get(sessionCookie(site)) ?? '');
  const person = session && personView(session.sub, session.claims);
  renderPage(ctx, 200, homePage({ title: site.title, person }));
}

function serveStylesheet(ctx: Context): void {
  ctx.type = 'text/css';
  ctx.set('cache-control', 'public, max-age=3600');
  ctx.body = STYLESHEET;
}

async function startLogin(site: SiteState, ctx: Context): Promise<void> {
  const config = await site.provider.configuration();
  const login = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    codeVerifier: client.randomPKCECodeVerifier(),
    expiresAt: Date.now() + LOGIN_TTL_MS,
  };
  const key = randomId();
  pruneExpired(site.pendingLogins);
  site.pendingLogins.set(key, login);
  ctx.cookies.set(loginCookie(site), key, { ...COOKIE_OPTIONS, maxAge: LOGIN_TTL_MS });
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: `${site.url}/callback`,
    scope: site.scope,
    state: login.state,
    nonce: login.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(login.codeVerifier),
    code_challenge_method: 'S256',
  });
  ctx.redirect(authorizationUrl.href);
}

async function finishLogin(site: SiteState, ctx: Context): Promise<void> {
  const login = takePendingLogin(site, ctx);
  if (!login) {
    const detail = '请回到首页重新登录。 / Please start again from the home page.';
    return renderError(site, ctx, '登录已过期 / Sign-in expired', detail);
  }
  try {
    const config = await site.provider.configuration();
    const session = await redeemCode(config, new URL(ctx.originalUrl, site.url), login);
    // A fresh session id on every sign-in, so a planted cookie value never becomes a session.
    site.sessions.delete(ctx.cookies.get(sessionCookie(site)) ?? '');
    const id = randomId();
    site.sessions.set(id, session);
    ctx.cookies.set(sessionCookie(site), id, COOKIE_OPTIONS);
    ctx.redirect('/');
  } catch (error) {
    const code = callbackErrorCode(error);
    const detail =
      code === 'access_denied'
        ? '您取消了登录或未同意授权。 / You cancelled sign-in or did not give consent.'
        : '登录过程中出现问题，请重试。 / Something went wrong while signing in; please try again.';
    renderError(site, ctx, '登录未完成 / Sign-in was not completed', detail, code);
  }
}

async function redeemCode(
  config: client.Configuration,
  callbackUrl: URL,
  login: PendingLogin,
): Promise<LocalSession> {
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: login.codeVerifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims();
  if (!idClaims || !tokens.id_token) throw new Error('the token response has no ID token');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  return {
    claims: { ...userinfo, ...idClaims },
    idToken: tokens.id_token,
    sub: idClaims.sub,
    ...(typeof idClaims.sid === 'string' ? { providerSid: idClaims.sid } : {}),
  };
}

/** Single-use: the pending login is removed before its code is redeemed. */
function takePendingLogin(site: SiteState, ctx: Context): PendingLogin | undefined {
  const key = ctx.cookies.get(loginCookie(site)) ?? '';
  const login = site.pendingLogins.get(key);
  site.pendingLogins.delete(key);
  ctx.cookies.set(loginCookie(site), null, COOKIE_OPTIONS);
  return login && login.expiresAt > Date.now() ? login : undefined;
}

async function logout(site: SiteState, ctx: Context): Promise<void> {
  // SameSite=Lax keeps the session cookie off cross-site POSTs, so a forged form cannot sign anyone out.
  const id = ctx.cookies.get(sessionCookie(site)) ?? '';
  const session = site.sessions.get(id);
  site.sessions.delete(id);
  ctx.cookies.set(sessionCookie(site), null, COOKIE_OPTIONS);
  ctx.status = 303; // kept by ctx.redirect: the browser must follow with a GET
  if (!session) return ctx.redirect('/');
  const endSessionUrl = client.buildEndSessionUrl(await site.provider.configuration(), {
    id_token_hint: session.idToken,
    post_logout_redirect_uri: `${site.url}/`,
  });
  ctx.redirect(endSessionUrl.href);
}

async function backchannelLogout(site: SiteState, ctx: Context): Promise<void> {
  ctx.set('cache-control', 'no-store');
  try {
    const token = await readLogoutTokenParameter(ctx);
    const claims = await verifyLogoutToken(token, await site.provider.logoutVerifier());
    endMatchingSessions(site.sessions, claims);
    site.logoutTokens.push(claims);
    ctx.status = 200;
  } catch (error) {
    const description =
      error instanceof InvalidLogoutToken
        ? error.message
        : 'the logout token could not be verified against the provider';
    ctx.status = 400;
    ctx.body = { error: 'invalid_request', error_description: description };
  }
}

function endMatchingSessions(sessions: Map<string, LocalSession>, claims: LogoutTokenClaims): void {
  for (const [id, session] of sessions) {
    const matches =
      claims.sid !== undefined ? session.providerSid === claims.sid : session.sub === claims.sub;
    if (matches) sessions.delete(id);
  }
}

async function readLogoutTokenParameter(ctx: Context): Promise<string> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new InvalidLogoutToken('the body must be application/x-www-form-urlencoded');
  }
  const token = new URLSearchParams(await readBody(ctx.req, BODY_LIMIT_BYTES)).get('logout_token');
  if (!token) throw new InvalidLogoutToken('logout_token is missing');
  // Checked before anything is fetched from the provider, so garbage gets a precise answer.
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    throw new InvalidLogoutToken('logout_token is not a signed JWT');
  }
  return token;
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new InvalidLogoutToken(`the body must not exceed ${limit} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** OAuth errors are expected (the person said no, a stale link); anything else is logged too. */
function callbackErrorCode(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return error.error;
  }
  console.warn(`demo site: sign-in failed: ${describeError(error)}`);
  return error instanceof client.ClientError && error.code ? error.code : 'login_failed';
}

/** One line for the console: the message and its causes, never a stack trace. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${describeError(error.cause)})` : error.message;
}

function renderPage(ctx: Context, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = html;
}

function renderError(site: SiteState, ctx: Context, heading: string, detail: string, code?: string): void {
  renderPage(ctx, 400, errorPage({ title: site.title, heading, detail, ...(code ? { code } : {}) }));
}

function securityHeaders(issuer: string): Koa.Middleware {
  // form-action must allow the provider: browsers check the redirect that follows the sign-out POST.
  const csp = `default-src 'none'; style-src 'self'; form-action 'self' ${new URL(issuer).origin}; frame-ancestors 'none'; base-uri 'none'`;
  return async (ctx, next) => {
    ctx.set('content-security-policy', csp);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
    ctx.set('cache-control', 'no-store');
    await next();
  };
}

/** Whatever a route did not handle (e.g. the provider being unreachable) gets a page, never a stack trace. */
function renderUnexpectedErrors(title: string): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      console.warn(`demo site: ${ctx.method} ${ctx.path} failed: ${describeError(error)}`);
      const heading = '暂时无法连接一通 / Yitong is unavailable';
      renderPage(ctx, 502, errorPage({ title, heading, detail: '请稍后再试。 / Please try again later.' }));
    }
  };
}

function pruneExpired(pendingLogins: Map<string, PendingLogin>): void {
  const now = Date.now();
  for (const [key, login] of pendingLogins) if (login.expiresAt <= now) pendingLogins.delete(key);
}

function randomId(): string {
  return randomBytes(32).toString('base64url');
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function optionsFromEnvironment(env: NodeJS.ProcessEnv): DemoSiteOptions {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required (see docker-compose.yml for an example)`);
    return value;
  };
  const port = Number(required('PORT'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('PORT must be an integer from 0 to 65535');
  }
  return {
    issuer: required('ISSUER'),
    clientId: required('CLIENT_ID'),
    clientSecret: required('CLIENT_SECRET'),
    port,
    title: env.SITE_TITLE || env.CLIENT_ID || 'Demo site',
    ...(env.HOST ? { host: env.HOST } : {}),
    ...(env.SCOPE ? { scope: env.SCOPE } : {}),
    ...(env.ISSUER_INTERNAL ? { internalIssuer: env.ISSUER_INTERNAL } : {}),
  };
}

if (import.meta.main) {
  try {
    const options = optionsFromEnvironment(process.env);
    const site = await startDemoSite(options);
    console.log(`${options.title} (${options.clientId}) listening on ${site.url}`);
    const stop = () => void site.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (error) {
    console.error(`demo site: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
