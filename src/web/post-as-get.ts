/**
 * OpenID Connect lets a site send its authorization request (Core 3.1.2.1) and its logout
 * request (RP-Initiated Logout 1.0 §2) as a form POST. A cross-site POST carries none of our
 * `SameSite=Lax` cookies, so the engine would not see the person's session; it takes POST only
 * with its cookies set `SameSite=None`, which would send the session with every cross-site
 * request. Instead such a POST is answered 303 with its parameters as the query: the browser's
 * GET is a top-level navigation, which carries the session as any sign-in link does. Nothing is
 * read or changed before that GET, and the engine checks the parameters as it checks any GET's.
 *
 * @example
 *   POST /auth  client_id=x&scope=openid…   →   303 Location: /auth?client_id=x&scope=openid…
 */
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import { readText } from './form.ts';

/**
 * The longest query sent on: its request line stays within what balancers read by default
 * (nginx 8 KiB, Apache 8190 bytes), and Node's 16 KiB of headers holds it with the cookies.
 */
const MAX_QUERY = 6 * 1024;

export function postAsGet(paths: readonly string[]) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !paths.includes(ctx.path.replace(/(.)\/$/, '$1'))) return next();
    (ctx.state as { route?: string }).route = 'post_as_get';
    if (!ctx.is('application/x-www-form-urlencoded')) throw new AppError('site_request.not_form', 415);
    const tooLarge = () => new AppError('site_request.too_large', 413, { params: { max: MAX_QUERY } });
    const form = await readText(ctx, { limit: 2 * MAX_QUERY, tooLarge, notUtf8 });
    // The URL's own query is kept beside the form (the engine would ignore it): a parameter
    // given in both is then given twice, which the engine refuses, as on a GET.
    const search = new URLSearchParams([...utf8Pairs(ctx.querystring), ...utf8Pairs(form)]).toString();
    if (search.length > MAX_QUERY) throw tooLarge();
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(search ? `${ctx.path}?${search}` : ctx.path);
  };
}

/**
 * A form's pairs, each percent-decoded as UTF-8. A page in GBK sends 中 as `%D6%D0`, which
 * `URLSearchParams` would turn into U+FFFD, and a `state` so changed fails the site's own check
 * later with no reason given: refused here, saying what to change.
 */
function utf8Pairs(form: string): Array<[string, string]> {
  const decode = (part: string) => decodeURIComponent(part.replaceAll('+', ' '));
  try {
    return form
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
      });
  } catch {
    throw notUtf8();
  }
}

const notUtf8 = () => new AppError('site_request.not_utf8', 400);
