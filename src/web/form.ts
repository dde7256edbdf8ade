/**
 * Parses the bodies of our own pages into `ctx.request.body`: urlencoded forms, and JSON objects
 * from our scripts (passkey ceremonies). The provider's endpoints parse their own bodies, so
 * this runs only where it is mounted.
 */
import type { Context, Next } from 'koa';
import { AppError } from './errors.ts';

const LIMIT = 16 * 1024;

export async function parseForm(ctx: Context, next: Next) {
  const writes = ctx.method === 'POST' || ctx.method === 'PATCH' || ctx.method === 'PUT';
  // A POST without a body (an API action such as /lock) has nothing to parse.
  if (writes && ctx.request.length === 0) (ctx.request as { body?: object }).body = {};
  else if (writes) {
    const type = ctx.is('application/x-www-form-urlencoded', 'application/json');
    if (!type) throw new AppError('request.invalid', 415, { params: { detail: 'form expected' } });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += (chunk as Buffer).length;
      if (size > LIMIT) throw new AppError('request.too_large', 413);
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    (ctx.request as { body?: Record<string, unknown> }).body =
      type === 'application/json' ? parseJsonObject(text) : Object.fromEntries(new URLSearchParams(text));
  }
  await next();
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('request.invalid', 400, { params: { detail: 'the body is not valid JSON' } });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AppError('request.invalid', 400, { params: { detail: 'a JSON object expected' } });
  return value as Record<string, unknown>;
}
