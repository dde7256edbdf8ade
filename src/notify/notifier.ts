/**
 * Messages to a person outside the browser (a password-reset link, a code proving a new mobile
 * number): pluggable. In development
 * they go to the log, where a developer reads them; in production to the province's messaging
 * service through an HTTP webhook (`NOTIFIER_URL`), which owns SMS delivery. A production
 * deployment without a webhook refuses to send rather than log a link.
 *
 * @example
 *   await notifier.send({ kind: 'password_reset', personId, phone, link });
 */
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { maskPhone } from '../identity/phone.ts';
import { AppError } from '../web/errors.ts';

export type Message =
  | {
      kind: 'password_reset';
      personId: string;
      /** Mainland mobile number, when the person gave one. */
      phone: string | null;
      link: string;
    }
  /** A code proving a new mobile number: sent to that number. */
  | { kind: 'phone_code'; personId: string; phone: string; code: string };

export interface Notifier {
  send(message: Message): Promise<void>;
}

export function createNotifier(config: Config['notifier'], logger: Logger): Notifier {
  if (config.kind === 'log')
    return {
      async send(message) {
        const phone = message.phone && maskPhone(message.phone);
        logger.warn(
          { notify: { ...message, phone } },
          'message for a person (development: logged, not sent)',
        );
      },
    };
  if (config.kind === 'none')
    return {
      async send() {
        throw new AppError('notify.unconfigured', 503);
      },
    };
  return {
    async send(message) {
      const response = await fetch(config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(config.token && { authorization: `Bearer ${config.token}` }),
        },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (!response?.ok) throw new AppError('notify.failed', 503);
    },
  };
}
