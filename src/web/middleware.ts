/**
 * What every request passes through: security headers with a CSP nonce, the reader's language,
 * CSRF tokens for our own forms, and one error handler that answers HTML or JSON.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { isBadInput } from '../db/errors.ts';
import { AppError, isAppError } from '../errors.ts';
import { type Locale, translate } from '../messages/index.ts';
import { dependencyOf, isClientFault, isOutage, type Outages, RETRY_AFTER_SECONDS } from '../outage.ts';
import { render } from './render.ts';
import { wayBack } from './way-back.ts';

export interface WebState {
  nonce: string;
  locale: Locale;
  csrf: string;
  requestId: string;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

/** The headers every response carries. */
export function securityHeaderValues(options: { production: boolean }): Record<string, string> {
  return {
    'content-security-policy': CSP.join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
    ...(options.production && { 'strict-transport-security': 'max-age=63072000; includeSubDomains' }),
  };
}

/** Headers for every response, computed once: the token and userinfo hot paths pay nothing per request. */
export function securityHeaders(options: { production: boolean }) {
  const headers = securityHeaderValues(options);
  return async (ctx: Context, next: Next) => {
    ctx.set(headers);
    await next();
  };
}

/**
 * A request answered before all of its body came (refused by its declared length, form.ts) closes
 * its connection: to keep it, Node would read the rest first, waiting on the client as long as it
 * likes.
 */
export async function closeUnreadBody(ctx: Context, next: Next) {
  // The request as it came: a body read and replayed (oidc/registration.ts) is a copy.
  const { req } = ctx;
  await next();
  if (!req.complete) ctx.set('connection', 'close');
}

/** Our own pages: a fresh nonce, the only way an inline script of ours may run. */
export async function scriptNonce(ctx: Context, next: Next) {
  const nonce = randomBytes(16).toString('base64');
  (ctx.state as WebState).nonce = nonce;
  ctx.set(
    'content-security-policy',
    CSP.join('; ').replace("script-src 'self'", `script-src 'self' 'nonce-${nonce}'`),
  );
  await next();
}

/** A Host header that names a host and perhaps a port, nothing else: the engine builds its links from it. */
export const isHost = (value: unknown): boolean =>
  typeof value === 'string' &&
  /^(\[[\da-f:.]+\]|[\w.-]+)(:\d{1,5})?$/i.test(value) &&
  URL.canParse(`http://${value}`);

/**
 * The request line names a path only (origin form): an absolute one (`GET https://evil.example/…`)
 * would have the engine build its links, discovery's among them, from that host, whatever Host says.
 */
function requireOriginForm(ctx: Context) {
  if (!ctx.originalUrl.startsWith('/'))
    throw new AppError('request.invalid', 400, { params: { detail: 'reason.target' } });
}

/** Outside production any host will do, but it must be one (a malformed one made the engine fail). */
export async function requireHost(ctx: Context, next: Next) {
  requireOriginForm(ctx);
  if (!isHost(ctx.host))
    throw new AppError('request.invalid', 400, { params: { detail: 'reason.host', host: ctx.host } });
  await next();
}

/**
 * Production: every page and endpoint (not the health checks, mounted before this) is served
 * over HTTPS at the issuer's host. Cookies are then always Secure, and no page is built from a
 * forged Host header.
 */
export function requireIssuerOrigin(issuer: string) {
  const { host } = new URL(issuer);
  return async (ctx: Context, next: Next) => {
    requireOriginForm(ctx);
    if (!ctx.secure) throw new AppError('request.invalid', 400, { params: { detail: 'reason.https' } });
    if (ctx.host !== host)
      throw new AppError('request.invalid', 400, { params: { detail: 'reason.host', host: ctx.host } });
    await next();
  };
}

const LANG_COOKIE = 'yitong.lang';

/**
 * zh-CN unless the reader chose English (`?lang=en`, remembered in a cookie) or the site asked
 * for it (`ui_locales`: in the query, or the pending sign-in's, passed by `settleLocale`).
 */
export function localeOf(ctx: Pick<Context, 'query' | 'cookies' | 'state'>): Locale {
  return (ctx.state as Partial<WebState>).locale ?? readLocale(ctx, ctx.query.ui_locales);
}

function readLocale(ctx: Pick<Context, 'query' | 'cookies'>, uiLocales: unknown): Locale {
  const chosen = ctx.query.lang;
  const asked = typeof uiLocales === 'string' ? uiLocales.split(' ')[0] : undefined;
  const wanted = typeof chosen === 'string' ? chosen : (ctx.cookies.get(LANG_COOKIE) ?? asked);
  return wanted?.toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

/** A sign-in's pages speak as its site asked (`ui_locales`) unless the reader chose otherwise. */
export function settleLocale(ctx: Context, uiLocales: unknown) {
  (ctx.state as WebState).locale = readLocale(ctx, uiLocales);
}

export async function locale(ctx: Context, next: Next) {
  const chosen = ctx.query.lang;
  if (chosen === 'en' || chosen === 'zh-CN') {
    ctx.cookies.set(LANG_COOKIE, chosen, {
      httpOnly: true,
      sameSite: 'lax',
      maxAge: 365 * 86400_000,
      overwrite: true,
    });
  }
  settleLocale(ctx, ctx.query.ui_locales);
  await next();
}

/**
 * Double-submit token: a random value in a signed, HttpOnly, SameSite=Lax cookie that every form
 * of ours echoes in a hidden `_csrf` field. Over HTTPS the cookie is `__Host-` bound, so a sibling
 * site of the same parent domain cannot plant one. Call `requireCsrf` on a parsed POST body.
 */
export function csrfToken(options: { production: boolean }) {
  const name = options.production ? '__Host-yitong.csrf' : 'yitong.csrf';
  return async (ctx: Context, next: Next) => {
    let token = ctx.cookies.get(name, { signed: true });
    if (!token || !/^[\w-]{43}$/.test(token)) {
      token = randomBytes(32).toString('base64url');
      ctx.cookies.set(name, token, { httpOnly: true, sameSite: 'lax', signed: true, overwrite: true });
    }
    (ctx.state as WebState).csrf = token;
    await next();
  };
}

export function requireCsrf(ctx: Context, submitted: unknown): void {
  const expected = Buffer.from((ctx.state as WebState).csrf);
  const actual = Buffer.from(typeof submitted === 'string' ? submitted : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    throw new AppError('csrf.invalid', 403);
}

/**
 * Renders AppErrors for people (HTML) or programs (JSON). A lost dependency is an outage: 503
 * with Retry-After (as every 503 has), logged once for the whole outage. Anything else is logged and shown as a
 * generic 500.
 */
export function errorHandler(logger: Logger, outages: Pick<Outages, 'down'>) {
  return async (ctx: Context, next: Next) => {
    const state = ctx.state as WebState;
    try {
      await next();
      // A page that renders its own 503 (an upstream or an authority unavailable) says it too.
      if (ctx.status === 503 && !ctx.response.get('retry-after'))
        ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found', 404);
      // Our router's answer to a method a path does not take (its Allow header stays).
      if (ctx.body === undefined && (ctx.status === 405 || ctx.status === 501))
        throw new AppError('request.invalid', ctx.status, {
          params: { detail: 'reason.method', method: ctx.method },
        });
    } catch (caught) {
      const outage = isOutage(caught);
      const error = outage ? new AppError('service.unavailable', 503) : toAppError(caught);
      state.requestId = randomUUID();
      // Any 503 (a lost dependency, the message service) says when to try again.
      if (error.status === 503) ctx.set('retry-after', String(RETRY_AFTER_SECONDS));
      if (outage) outages.down(dependencyOf(caught), caught);
      // 501: a method nobody knows (PROPFIND) is the client's doing, not ours to log.
      else if (error.status >= 500 && error.status !== 501)
        logger.error({ err: caught, requestId: state.requestId, path: ctx.path }, 'request failed');
      ctx.status = error.status;
      const message = translate(state.locale ?? 'zh-CN', error.code, error.params);
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: error.code, error_description: message, request_id: state.requestId };
      } else {
        const title = outage ? 'service.unavailable.title' : 'error.title';
        const back = wayBack(ctx.path, error.code);
        render(ctx, 'message', { title, message, requestId: state.requestId, wayBack: back });
      }
      ctx.status = error.status;
    }
  };
}

function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  // No fault of ours, so nothing is logged (and a client that hung up reads no answer).
  if (isClientFault(error))
    return new AppError('request.invalid', 400, {
      params: { detail: 'reason.cut_off' },
    });
  const status = (error as { status?: number; expose?: boolean }).status;
  if (status === 413) return new AppError('request.too_large', 413);
  // The input boundary (form.ts) should have caught it; the database refusing it is still bad input.
  if (isBadInput(error))
    return new AppError('request.invalid', 400, { params: { detail: 'reason.bad_value' } });
  if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
    return new AppError('request.invalid', status, { params: { detail: (error as Error).message } });
  }
  return new AppError('server.error', 500);
}
