/**
 * Password reset through a link an administrator sends (after checking who is asking): single
 * use, valid one hour, kept only as a hash. Setting the new password ends every sign-in of the
 * account. Both steps are audited.
 *
 * @example
 *   await reset.send(person, { actor: adminId, ip });          // the notifier delivers the link
 *   await reset.complete(token, 'new password', 'new password', ip);
 */
import { createHash, randomBytes } from 'node:crypto';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { checkNewPassword, hashPassword } from '../auth/password.ts';
import { AppError } from '../errors.ts';
import type { MessageKey } from '../messages/index.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Notify } from './notices.ts';
import type { AccountsRepo, Person } from './repo.ts';

const VALID_SECONDS = 3600;
/** A link started at a service counter is opened there and then, on the person's own phone. */
const COUNTER_SECONDS = 30 * 60;

export function createPasswordReset(deps: {
  repo: Pick<AccountsRepo, 'findPersonById' | 'setPassword' | 'recordAudit'>;
  ephemeral: EphemeralStore;
  notifier: Notifier;
  /** The proved number is told when the password was reset. */
  notify: Notify;
  revealIdNumber(person: Person): string;
  issuer: string;
}) {
  const keyOf = (token: string) => `reset:${createHash('sha256').update(token).digest('base64url')}`;

  async function personOf(token: string): Promise<Person> {
    const personId = /^[\w-]{43}$/.test(token) ? await deps.ephemeral.peek<string>(keyOf(token)) : undefined;
    const person = personId ? await deps.repo.findPersonById(personId) : undefined;
    if (person?.status !== 'active') throw new AppError('reset.expired', 400);
    return person;
  }

  return {
    /** Only to a proved number (`reset.unproved_phone` otherwise): a typed one may be anyone's. */
    async send(person: Person, by: { actor: string; ip: string }) {
      if (!person.phone || !person.phoneVerifiedAt) throw new AppError('reset.unproved_phone', 409);
      const token = randomBytes(32).toString('base64url');

      await deps.ephemeral.put(keyOf(token), person.id, VALID_SECONDS);
      await deps.notifier.send({
        kind: 'password_reset',
        personId: person.id,
        phone: person.phone,
        link: `${deps.issuer}/reset/${token}`,
      });
      await deps.repo.recordAudit({ ...by, action: 'password.reset_sent', subject: person.id });
    },

    /**
     * At a service counter, after staff checked the identity card: the link is shown (as a QR
     * code) for the person to open on their own phone, never sent to a number.
     */
    async startAtCounter(person: Person, by: { actor: string; ip: string; hall: string }): Promise<string> {
      const token = randomBytes(32).toString('base64url');
      await deps.ephemeral.put(keyOf(token), person.id, COUNTER_SECONDS);
      await deps.repo.recordAudit({
        actor: by.actor,
        action: 'password.reset_started',
        subject: person.id,
        ip: by.ip,
        details: { hall: by.hall },
      });
      return `${deps.issuer}/reset/${token}`;
    },

    /** Throws `reset.expired` for a link that is unknown, used or expired. */

    check: (token: string) => personOf(token),

    async complete(token: string, password: string, confirm: string, ip: string) {
      const person = await personOf(token);
      await setNewPassword(
        deps,
        person,
        { password, confirm, idNumber: deps.revealIdNumber(person) },
        {
          useUp: async () => Boolean(await deps.ephemeral.take(keyOf(token))),
          expired: 'reset.expired',
          action: 'password.reset',
          ip,
        },
      );
    },
  };
}

/**
 * A new password chosen with a single-use proof (a reset link, a recovery): checked first, so a
 * refused password leaves the proof usable; then the proof used up, every sign-in ended (the
 * repo's `signed_out_at`) and the proved number told, so a reset nobody asked for is noticed.
 */
export async function setNewPassword(
  deps: { repo: Pick<AccountsRepo, 'setPassword'>; notify: Notify },
  person: Person,
  input: { password: string; confirm: string; idNumber: string },
  proof: { useUp(): Promise<boolean>; expired: MessageKey; action: string; ip: string },
) {
  checkNewPassword(input.password, input.confirm, input.idNumber);
  if (!(await proof.useUp())) throw new AppError(proof.expired, 400);
  await deps.repo.setPassword(person.id, await hashPassword(input.password), {
    actor: person.id,
    action: proof.action,
    subject: person.id,
    ip: proof.ip,
  });
  await deps.notify(person, { kind: 'password_recovered' });
}

export type PasswordReset = ReturnType<typeof createPasswordReset>;
