/**
 * Notices about a change to an account (its number replaced, its deletion asked for), so that a
 * person whose account was taken over hears of it. Sent only to a proved number (a typed one may
 * be anyone's), at most 10 an hour to a number, so that repeating a change cannot flood it (a
 * budget of their own: asking for codes to the number cannot use it up and silence them), and
 * never undoing the change when undelivered.
 *
 * @example
 *   await notify(person, { kind: 'deletion_requested', due: due.toISOString() });
 */
import type { Limiter } from '../auth/rate-limit.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Person } from './repo.ts';

export type Notice =
  | { kind: 'phone_changed'; to: string }
  | { kind: 'deletion_requested'; due: string }
  | { kind: 'registration_attempted' }
  | { kind: 'password_recovered' };

export function createNotices(notifier: Pick<Notifier, 'notice'>, perNumber: Limiter) {
  return async (person: Pick<Person, 'id' | 'phone' | 'phoneVerifiedAt'>, notice: Notice) => {
    if (!person.phone || !person.phoneVerifiedAt) return;
    if (!(await perNumber.consume(person.phone)).allowed) return;
    await notifier.notice({ ...notice, personId: person.id, phone: person.phone });
  };
}

export type Notify = ReturnType<typeof createNotices>;
