/**
 * Changing (or proving) the mobile number: a six-digit code sent to the number (through the
 * notifier) proves it before it replaces the old one, and the old number is told. The code is
 * bound to the session that asked, valid ten minutes, used once. Codes sent (5 an hour per
 * account, 3 per account and number, 10 per number for self-registered accounts and 10 more for
 * verified ones) and wrong codes (5 per 15 minutes per account) are limited.
 *
 * Whether another account holds the number is said only after the code proved it: asking is
 * not a way to learn which numbers are registered. A proved number is unique; an account that
 * merely typed it (at registration) loses it to the person who proves it.
 *
 * @example
 *   await phones.start(person, session.uid, '13912345678');   // the notifier delivers the code
 *   await phones.confirm(person, session.uid, '123456', ip);
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { consumeOrRefuse, type Limiter } from '../auth/rate-limit.ts';
import { AppError, isAppError } from '../errors.ts';
import { maskPhone } from '../identity/phone.ts';
import { compactTyped } from '../identity/typed.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Notify } from './notices.ts';
import type { AccountsRepo, Person } from './repo.ts';
import { requiredPhone } from './service.ts';

const VALID_SECONDS = 10 * 60;

interface Pending {
  personId: string;
  phone: string;
  codeHash: string;
}

const hashOf = (code: string) => createHash('sha256').update(code).digest('base64url');

/**
 * The six digits of a code from a text message as typed (full-width, `123 456`); anything else
 * is a typing slip, answered per field and never counted as a guess.
 */
export function requiredCode(input: string): string {
  const code = compactTyped(input, { hyphens: true });
  if (!/^\d{6}$/.test(code)) throw new AppError('phone.code_format', 400, { field: 'code' });
  return code;
}

export function createPhoneChange(deps: {
  repo: Pick<AccountsRepo, 'setPhone'>;
  ephemeral: EphemeralStore;
  notifier: Pick<Notifier, 'send'>;
  /** The old number is told of the change. */
  notify: Notify;
  sendsPerAccount: Limiter;
  /** One account cannot use up a number's allowance on its own… */
  sendsPerAccountAndNumber: Limiter;
  /** …and no number is flooded with codes from many accounts. */
  sendsPerNumber: Limiter;
  wrongCodesPerAccount: Limiter;
}) {
  const keyOf = (sessionUid: string) => `phone:${sessionUid}`;

  return {
    /** Sends a code to the new number; returns it masked, for the page that asks for the code. */
    async start(person: Person, sessionUid: string, input: string): Promise<string> {
      const phone = requiredPhone(input);
      if (phone === person.phone && person.phoneVerifiedAt)
        throw new AppError('phone.same', 400, { field: 'phone' });
      // Self-registered accounts cost nothing to make: they share one allowance per number, and
      // accounts whose identity an authority or a counter confirmed have one of their own, so a
      // few made-up accounts cannot stop the real owner from proving their number.
      const verified = person.identityLevel >= 2 ? 'verified' : 'self';
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const counted: Array<[Limiter, string]> = [];
      try {
        for (const [limiter, key, refused] of [
          [deps.sendsPerAccount, person.id, 'rate.phone_sends'],
          [deps.sendsPerAccountAndNumber, `${person.id}:${phone}`, 'rate.phone'],
          [deps.sendsPerNumber, `${verified}:${phone}`, 'rate.phone'],
        ] as const) {
          await consumeOrRefuse(limiter, key, refused);
          counted.push([limiter, key]);
        }
        await deps.notifier.send({ kind: 'phone_code', personId: person.id, phone, code });
      } catch (error) {
        // Nothing was sent (a limit refused, or the message service failed): nothing is charged.
        // A number the service refused is charged as a code sent, so it cannot be asked for
        // without end.
        if (!(isAppError(error) && error.code === 'notify.rejected'))
          await Promise.all(counted.map(([limiter, key]) => limiter.refund(key)));
        throw error;
      }
      // Stored only once sent, so a failed send never leaves a page waiting for a code.
      await deps.ephemeral.put(
        keyOf(sessionUid),
        { personId: person.id, phone, codeHash: hashOf(code) } satisfies Pending,
        VALID_SECONDS,
      );
      return maskPhone(phone);
    },

    /** The number waiting for its code in this session, masked; undefined when none is. */
    async pending(person: Person, sessionUid: string): Promise<string | undefined> {
      const pending = await deps.ephemeral.peek<Pending>(keyOf(sessionUid));
      return pending?.personId === person.id ? maskPhone(pending.phone) : undefined;
    },

    /** True when the number replaced another one; false when the person proved the number they had. */
    async confirm(person: Person, sessionUid: string, code: string, ip: string): Promise<boolean> {
      const pending = await deps.ephemeral.peek<Pending>(keyOf(sessionUid));
      if (pending?.personId !== person.id) throw new AppError('phone.expired', 400);
      const given = Buffer.from(hashOf(requiredCode(code)));
      // Counted before the comparison, so parallel guesses cannot outrun the limit; a right code is refunded.
      await consumeOrRefuse(deps.wrongCodesPerAccount, person.id, 'rate.phone_code').catch(
        async (error: unknown) => {
          await deps.ephemeral.take(keyOf(sessionUid)); // too many guesses: this code is done
          throw error;
        },
      );
      if (!timingSafeEqual(given, Buffer.from(pending.codeHash)))
        throw new AppError('phone.code_wrong', 400, { field: 'code' });
      await deps.wrongCodesPerAccount.refund(person.id);
      if (!(await deps.ephemeral.take(keyOf(sessionUid)))) throw new AppError('phone.expired', 400);
      const to = maskPhone(pending.phone);
      await deps.repo.setPhone(person.id, pending.phone, {
        actor: person.id,
        action: 'phone.changed',
        subject: person.id,
        ip,
        details: { to },
      });
      const changed = person.phone !== pending.phone;
      if (changed) await deps.notify(person, { kind: 'phone_changed', to });
      return changed;
    },
  };
}

export type PhoneChange = ReturnType<typeof createPhoneChange>;
