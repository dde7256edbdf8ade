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

  constructor(
    code: MessageKey,
    status = 400,
    options: { params?: Record<string, string | number>; field?: string } = {},
  ) {
    super(code);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.params = options.params ?? {};
    this.field = options.field;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
