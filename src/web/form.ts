/**
 * The input boundary of our own pages and APIs: every body, query string and path parameter is
 * checked here before anything else sees it. Text must be well-formed Unicode without NUL, JSON
 * may nest only a few levels, and forms are read as flat string fields, so no deeper code (a
 * template echoing a form, a jsonb column, the audit trail) meets a value it cannot hold.
 *
 * @example
 *   const form = formOf(ctx);          // Record<string, string>: only the top-level strings
 *   const body = bodyOf(ctx);          // the checked JSON object (the admin API, passkey scripts)
 *   const page = intParam(ctx.query.before, 'before', 1, MAX_BIGINT);
 */
import type { Context, Next } from 'koa';
import { AppError } from '../errors.ts';
import type { Reason } from '../messages/index.ts';
import { findTextProblem } from '../text.ts';

const LIMIT = 16 * 1024;
/** Deep enough for a WebAuthn response or an admin API body; far below any stack limit. */
const MAX_DEPTH = 8;

function refuse(detail: Reason): never {
  throw new AppError('request.invalid', 400, { params: { detail } });
}

function checkValue(value: unknown): void {
  if (findTextProblem(value, MAX_DEPTH)) refuse('reason.text');
}

/** Middleware: the request's path and query checked; a POST's body parsed and checked into `ctx.request.body`. */
export async function parseForm(ctx: Context, next: Next) {
  checkValue(safeDecode(ctx.path));
  checkValue(ctx.query);
  const writes = ctx.method === 'POST' || ctx.method === 'PATCH' || ctx.method === 'PUT';
  // null: no body at all (an API action such as /lock, with or without Content-Length: 0).
  const type = writes ? ctx.is('application/x-www-form-urlencoded', 'application/json') : null;
  if (writes && (type === null || ctx.request.length === 0)) (ctx.request as { body?: object }).body = {};
  else if (writes) {
    if (!type) throw new AppError('request.invalid', 415, { params: { detail: 'reason.form_expected' } });
    const text = await readText(ctx);
    const body =
      type === 'application/json' ? parseJsonObject(text) : Object.fromEntries(new URLSearchParams(text));
    checkValue(body);
    (ctx.request as { body?: Record<string, unknown> }).body = body;
  }
  await next();
}

/**
 * The request's body as text: `tooLarge` past `limit` bytes; `notUtf8` when it is not UTF-8 (a
 * GBK body), never turned into U+FFFD and stored.
 */
export async function readText(
  ctx: Context,
  {
    limit = LIMIT,
    tooLarge = () => new AppError('request.too_large', 413),
    notUtf8 = () => new AppError('request.invalid', 400, { params: { detail: 'reason.not_utf8' } }),
  } = {},
): Promise<string> {
  // Declared too long: refused before any of it is read, not once the client has sent that much.
  if (Number(ctx.get('content-length')) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw notUtf8();
  }
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    refuse('reason.path_not_utf8');
  }
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    refuse('reason.not_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse('reason.json_object');
  return value as Record<string, unknown>;
}

/** The checked body as parsed (JSON objects keep their shape): for the admin API and our scripts. */
export const bodyOf = (ctx: Context): Record<string, unknown> =>
  (ctx.request as { body?: Record<string, unknown> }).body ?? {};

/** A form: only the top-level string fields, so nothing nested or foreign reaches a page. */
export const formOf = (ctx: Context): Record<string, string> =>
  Object.fromEntries(
    Object.entries(bodyOf(ctx)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );

export const str = (value: unknown) => (typeof value === 'string' ? value : '');

/** `table[key]` for a key from a request, never an inherited property (`constructor`, `__proto__`). */
export function pick<T extends object>(table: T, key: unknown): T[keyof T] | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key as keyof T] : undefined;
}

/** PostgreSQL's bigint: ids and cursors from a request must fit before they reach SQL. */
export const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * A whole number from a query string or path within [min, max], as a bigint; undefined when
 * absent; 400 naming `field` when it is not one.
 */
export function intParam(value: unknown, field: string, min: bigint, max: bigint): bigint | undefined {
  const text = str(value).trim();
  if (!text) return undefined;
  const n = /^\d{1,19}$/.test(text) ? BigInt(text) : undefined;
  if (n === undefined || n < min || n > max)
    throw new AppError('request.invalid', 400, {
      field,
      params: { detail: 'reason.whole_number', name: field, min: String(min), max: String(max) },
    });
  return n;
}
