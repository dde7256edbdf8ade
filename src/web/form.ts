/**
 * Parses `application/x-www-form-urlencoded` bodies of our own pages into `ctx.request.body`.
 * The provider's endpoints parse their own bodies, so this runs only where it is mounted.
 */
import type { Context, Next } from 'koa';
import { AppError } from './errors.ts';

const LIMIT = 16 * 1024;

export async function parseForm(ctx: Context, next: Next) {
  if (ctx.method === 'POST') {
    if (!ctx.is('application/x-www-form-urlencoded'))
      throw new AppError('request.invalid', 415, { params: { detail: 'form expected' } });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > LIMIT) throw new AppError('request.too_large', 413);
      chunks.push(chunk as Buffer);
    }
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    (ctx.request as { body?: Record<string, string> }).body = Object.fromEntries(params);
  }
  await next();
}
