/** Serves the few static files from memory, with a content hash as ETag. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Context, Next } from 'koa';
import { noneMatch } from './etag.ts';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Every file of `dir`, plus `extra` files served under a name of ours (a package's browser
 * bundle: served by us, never from a CDN).
 */
export function serveStatic(dir: URL, extra: Record<string, URL> = {}) {
  const sources: Array<[string, URL]> = [
    ...readdirSync(dir)
      .filter((name) => TYPES[extname(name)])
      .map((name): [string, URL] => [name, new URL(name, dir)]),
    ...Object.entries(extra),
  ];
  const files = new Map(
    sources.map(([name, source]) => {
      const body = readFileSync(source);
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
      return [`/static/${name}`, { body, etag, type: TYPES[extname(name)] as string }];
    }),
  );
  return async (ctx: Context, next: Next) => {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.set({ etag: file.etag, 'cache-control': 'public, max-age=3600' });
    if (noneMatch(ctx.get('if-none-match'), file.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
