/**
 * Changing the mobile number: the new number must be free and is proved by a six-digit code
 * sent to it (through the notifier) before it replaces the old one. The code is bound to the
 * session that asked, valid ten minutes, used once. Numbers tried (5 an hour) and wrong codes
 * (5 per 15 minutes) are limited per account.
 *
 * @example
 *   await phones.start(person, session.uid, '13912345678');   // the notifier delivers the code
 *   await phones.confirm(person, session.uid, '123456', ip);
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import type { Limiter } from '../auth/rate-limit.ts';
import { MAINLAND_MOBILE, maskPhone } from '../identity/phone.ts';
import type { Notifier } from '../notify/notifier.ts';
import { AppError } from '../web/errors.ts';
import type { AccountsRepo, Person } from './repo.ts';

const VALID_SECONDS = 10 * 60;

interface Pending {
  personId: string;
  phone: string;
  codeHash: string;
}

const hashOf = (code: string) => createHash('sha256').update(code).digest('base64url');

export function createPhoneChange(deps: {
  repo: Pick<AccountsRepo, 'phoneInUse' | 'setPhone'>;
  ephemeral: EphemeralStore;
  notifier: Notifier;
  sendsPerAccount: Limiter;
  wrongCodesPerAccount: Limiter;
}) {
  const keyOf = (sessionUid: string) => `phone:${sessionUid}`;

  async function limit(limiter: Limiter, personId: string) {
    const { allowed, retryAfterSeconds } = await limiter.consume(personId);
    if (!allowed)
      throw new AppError('rate.account', 429, {
        params: { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) },
      });
  }

  return {
    /** Sends a code to the new number; returns it masked, for the page that asks for the code. */
    async start(person: Person, sessionUid: string, input: string): Promise<string> {
      const phone = input.trim();
      if (!MAINLAND_MOBILE.test(phone)) throw new AppError('phone.invalid', 400, { field: 'phone' });
      if (phone === person.phone) throw new AppError('phone.same', 400, { field: 'phone' });
      // Counted before the look-up: asking is how one would probe which numbers are registered.
      await limit(deps.sendsPerAccount, person.id);
      if (await deps.repo.phoneInUse(phone, person.id))
        throw new AppError('phone.taken', 409, { field: 'phone' });
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await deps.ephemeral.put(
        keyOf(sessionUid),
        { personId: person.id, phone, codeHash: hashOf(code) } satisfies Pending,
        VALID_SECONDS,
      );
      await deps.notifier.send({ kind: 'phone_code', personId: person.id, phone, code });
      return maskPhone(phone);
    },

    /** The number waiting for its code in this session, masked; undefined when none is. */
    async pending(person: Person, sessionUid: string): Promise<string | undefined> {
      const pending = await deps.ephemeral.peek<Pending>(keyOf(sessionUid));
      return pending?.personId === person.id ? maskPhone(pending.phone) : undefined;
    },

    async confirm(person: Person, sessionUid: string, code: string, ip: string): Promise<void> {
      const pending = await deps.ephemeral.peek<Pending>(keyOf(sessionUid));
      if (pending?.personId !== person.id) throw new AppError('phone.expired', 400);
      // Counted before the comparison, so parallel guesses cannot outrun the limit; a right code is refunded.
      await limit(deps.wrongCodesPerAccount, person.id).catch(async (error: unknown) => {
        await deps.ephemeral.take(keyOf(sessionUid)); // too many guesses: this code is done
        throw error;
      });
      const given = Buffer.from(hashOf(code.trim()));
      if (!timingSafeEqual(given, Buffer.from(pending.codeHash)))
        throw new AppError('phone.code_wrong', 400, { field: 'code' });
      await deps.wrongCodesPerAccount.refund(person.id);
      if (!(await deps.ephemeral.take(keyOf(sessionUid)))) throw new AppError('phone.expired', 400);
      await deps.repo.setPhone(person.id, pending.phone, {
        actor: person.id,
        action: 'phone.changed',
        subject: person.id,
        ip,
        details: { to: maskPhone(pending.phone) },
      });
    },
  };
}

export type PhoneChange = ReturnType<typeof createPhoneChange>;
