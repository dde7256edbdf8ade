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

/** The longest query sent on: with the cookies it stays within Node's 16 KiB of request headers. */
const MAX_QUERY = 8 * 1024;

export function postAsGet(paths: readonly string[]) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'POST' || !paths.includes(ctx.path)) return next();
    if (!ctx.is('application/x-www-form-urlencoded'))
      throw new AppError('request.invalid', 415, {
        params: { detail: 'send the parameters as a form (application/x-www-form-urlencoded)' },
      });
    // Every pair is kept, repeats too, so the engine refuses a parameter given twice as on a GET.
    const query = new URLSearchParams(ctx.querystring);
    for (const [name, value] of new URLSearchParams(await readText(ctx))) query.append(name, value);
    const search = query.toString();
    if (search.length > MAX_QUERY)
      throw new AppError('request.invalid', 413, {
        params: { detail: `the parameters exceed ${MAX_QUERY} bytes; push the request with PAR instead` },
      });
    ctx.status = 303;
    ctx.redirect(search ? `${ctx.path}?${search}` : ctx.path);
  };
}
