/**
 * `/sources/v1`: where source departments publish verified attributes, with a client-credentials
 * token of a client whose manifest lists the types it publishes (`publishes`).
 *
 * @example
 *   POST /sources/v1/attributes        {"holder":{"id_number":"…"},"type":"education",…}   → {"status":"stored"}
 *   POST /sources/v1/attributes/bulk   JSON Lines (application/x-ndjson)                   → a result per line
 *   GET  /sources/v1/corrections       the people's open "this is wrong" requests          → {"corrections":[…]}
 *   POST /sources/v1/corrections/7     {"answer":"…"}                                      → {"status":"answered"}
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { SiteDirectory } from '../oidc/directory.ts';
import type { TokenReader } from '../oidc/token-reader.ts';
import { findTextProblem } from '../text.ts';
import { bodyOf, parseForm, readText } from '../web/form.ts';
import type { Source } from './records.ts';
import { BULK_LINES, type Sources } from './sources.ts';

/** A bulk request's size at most: ~10,000 lines of ordinary records. */
const BULK_BYTES = 8 * 1024 * 1024;

export function sourceRoutes(deps: {
  sources: Sources;
  readToken: TokenReader;
  sites: Pick<SiteDirectory, 'find'>;
}): Router {
  // Case-sensitive: @koa/router matches routes in any case but a prefix-wide `use` (the token
  // check below) only as written, so /SOURCES/V1/… reached the handlers with no token checked.
  const router = new Router({ prefix: '/sources/v1', sensitive: true });
  const source = (ctx: Context) => (ctx.state as { source: Source }).source;

  /** A client-credentials token of a site that publishes something; never a person's token. */
  async function authenticate(ctx: Context, next: Next) {
    const value = /^Bearer (\S+)$/.exec(ctx.get('authorization'))?.[1];
    const token = value ? await deps.readToken(value) : undefined;
    if (!token || token.accountId) {
      ctx.set('www-authenticate', 'Bearer realm="yitong-sources"');
      throw new AppError('api.unauthorized', 401);
    }
    const site = await deps.sites.find(token.clientId);
    if (!site?.publishes.size) throw new AppError('admin.forbidden', 403);
    (ctx.state as { source: Source }).source = {
      clientId: token.clientId,
      department: site.department,
      regionCode: site.regionCode,
      publishes: site.publishes,
    };
    await next();
  }

  router.use(authenticate);

  router.post('/attributes', parseForm, async (ctx) => {
    ctx.body = { status: await deps.sources.publish(source(ctx), bodyOf(ctx), ctx.ip) };
  });

  router.get('/corrections', async (ctx) => {
    ctx.body = { corrections: await deps.sources.corrections(source(ctx)) };
  });

  router.post('/corrections/:id', parseForm, async (ctx) => {
    ctx.body = { status: await deps.sources.answer(source(ctx), ctx.params.id ?? '', bodyOf(ctx), ctx.ip) };
  });

  router.post('/attributes/bulk', async (ctx) => {
    if (!ctx.is('application/x-ndjson', 'application/jsonl'))
      throw new AppError('request.invalid', 415, {
        params: { detail: 'JSON Lines (application/x-ndjson) expected' },
      });
    // Blank lines keep their numbers, so each result names the line the source sent.
    const text = await readText(ctx, { limit: BULK_BYTES });
    const problem = findTextProblem(text, 1);
    if (problem) throw new AppError('request.invalid', 400, { params: { detail: problem } });
    const lines = text.replace(/\n$/, '').split('\n');
    if (lines.length > BULK_LINES)
      throw new AppError('attribute.too_many', 413, { params: { max: BULK_LINES } });
    const results = await deps.sources.bulk(source(ctx), lines, ctx.ip);
    ctx.type = 'application/x-ndjson';
    ctx.body = results.map((result) => `${JSON.stringify(result)}\n`).join('');
  });

  return router;
}
