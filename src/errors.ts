/**
 * The closed set of errors a person or a client can be shown. Each code maps to a zh-CN and an
 * English message (messages.ts); one middleware renders them as HTML or JSON.
 *
 * @example
 *   throw new AppError('account.exists', 409);
 */
import type { MessageKey } from './messages/index.ts';

export class AppError extends Error {
  readonly code: MessageKey;
  readonly status: number;
  /** Values interpolated into the message, e.g. { minutes: 15 }. */
  readonly params: Record<string, string | number>;
  /** The form field the error is about, so the page can show it next to that field. */
  readonly field: string | undefined;
  /** Errors of other fields of the same form, found in the same pass (`checkFields`). */
  readonly also: readonly AppError[];

  constructor(
    code: MessageKey,
    status = 400,
    options: { params?: Record<string, string | number>; field?: string; also?: readonly AppError[] } = {},
  ) {
    super(code);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.params = options.params ?? {};
    this.field = options.field;
    this.also = options.also ?? [];
  }
}

/**
 * Runs every check of a form and returns their values; when fields are wrong, throws the first
 * field's error with the others in `also`, so the page names every one at once.
 *
 * @example
 *   const [idNumber, name] = checkFields(() => parseIdNumberOrThrow(a), () => normaliseName(b));
 */
export function checkFields<T extends unknown[]>(...checks: { [K in keyof T]: () => T[K] }): T {
  const errors: AppError[] = [];
  const values = checks.map((check) => {
    try {
      return check();
    } catch (error) {
      if (!isAppError(error) || !error.field) throw error;
      errors.push(error);
      return undefined;
    }
  });
  const [first, ...rest] = errors;
  if (first)
    throw new AppError(first.code, first.status, { params: first.params, field: first.field, also: rest });
  return values as T;
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
