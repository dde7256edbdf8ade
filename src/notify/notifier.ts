/**
 * Messages to a person outside the browser (a password-reset link, a code proving a new mobile
 * number, a notice to the old number that the number or the account is changing): pluggable. In development
 * they go to the log, where a developer reads them; in production to the province's messaging
 * service through an HTTP webhook (`NOTIFIER_URL`), which owns SMS delivery. A production
 * deployment without a webhook refuses to send rather than log a link.
 *
 * @example
 *   await notifier.send({ kind: 'password_reset', personId, phone, link });
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { AppError, isAppError } from '../errors.ts';
import { maskPhone } from '../identity/phone.ts';

export type Message =
  | {
      kind: 'password_reset';
      personId: string;
      /** Mainland mobile number, when the person gave one. */
      phone: string | null;
      link: string;
    }
  /** A code proving a new mobile number: sent to that number. */
  | { kind: 'phone_code'; personId: string; phone: string; code: string }
  /** To the number being replaced: `to` is the new number, masked. */
  | { kind: 'phone_changed'; personId: string; phone: string; to: string }
  /** To the account's number: its deletion was asked for and happens on `due` unless cancelled. */
  | { kind: 'deletion_requested'; personId: string; phone: string; due: string }
  /** To the account's number: someone tried to register another account with its identity number. */
  | { kind: 'registration_attempted'; personId: string; phone: string }
  /** A code to recover a forgotten password: sent to the account's proved number. */
  | { kind: 'recovery_code'; personId: string; phone: string; code: string }
  /** To the account's number: its password was recovered with it (if it was not them, what to do). */
  | { kind: 'password_recovered'; personId: string; phone: string };

export interface Notifier {
  /** Throws (503) when the message cannot be delivered: what needed it does not happen. */
  send(message: Message): Promise<void>;
  /**
   * A notice about something already done (so a person whose account was taken over hears of
   * it): delivery is tried, a failure is logged and never undoes what was done.
   */
  notice(message: Message): Promise<void>;
  /**
   * Whether the messaging service failed (no answer, or a 5xx) the last message that had to be
   * delivered (`send`), within the last 30 s: what asks for a code can say so to everyone. A
   * message it refused (a 4xx: a number that takes no texts) does not count, nor do notices:
   * whether one was tried can depend on who asked.
   */
  failing(): boolean;
}

const FAILING_MS = 30_000;

export function createNotifier(config: Config['notifier'], logger: Logger): Notifier {
  const deliver = sender(config, logger);
  let failedAt = Number.NEGATIVE_INFINITY;
  return {
    send: (message) =>
      deliver(message).then(
        () => {
          failedAt = Number.NEGATIVE_INFINITY;
        },
        (error: unknown) => {
          if (isAppError(error) && error.code === 'notify.failed') failedAt = Date.now();
          throw error;
        },
      ),
    notice: (message) =>
      deliver(message).catch((error: unknown) =>
        logger.warn({ err: error, kind: message.kind, person: message.personId }, 'notice not delivered'),
      ),
    failing: () => Date.now() - failedAt < FAILING_MS,
  };
}

function sender(config: Config['notifier'], logger: Logger): Notifier['send'] {
  if (config.kind === 'log')
    return async (message) => {
      const phone = message.phone && maskPhone(message.phone);
      logger.warn({ notify: { ...message, phone } }, 'message for a person (development: logged, not sent)');
    };
  if (config.kind === 'none')
    return async () => {
      throw new AppError('notify.unconfigured', 503);
    };
  return async (message) => {
    const response = await fetch(config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(config.token && { authorization: `Bearer ${config.token}` }),
      },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    // A 4xx is this message refused (the number takes no texts), not the service down.
    if (response && response.status >= 400 && response.status < 500)
      throw new AppError('notify.rejected', 400);
    if (!response?.ok) throw new AppError('notify.failed', 503);
  };
}
