/**
 * The TOTP authenticator as a second factor, with one-time recovery codes. Enrolment is
 * confirmed by a first code, so a mistyped key never locks anyone out; recovery codes are shown
 * once and kept as keyed HMACs. Attempts are counted per account (separately from passwords)
 * before a code is checked; each code works once.
 *
 * @example
 *   const { uri, qr, secret } = await codes.startEnrolment(sessionUid, person);
 *   const recoveryCodes = await codes.confirmEnrolment(sessionUid, person.id, '123456', ip);
 *   await codes.verify(person.id, '654321', ip); // or a recovery code
 */

import { AppError } from '../errors.ts';
import type { Sealer } from '../identity/crypto.ts';
import type { EphemeralStore } from './ephemeral.ts';
import { addressKey, consumeOrRefuse, type Limiter } from './rate-limit.ts';
import type { FactorsRepo } from './repo.ts';
import {
  checkTotp,
  newRecoveryCodes,
  newTotpSecret,
  normaliseRecoveryCode,
  qrDataUrl,
  totpToken,
  totpUri,
} from './totp.ts';

const ENROLMENT_SECONDS = 15 * 60;
const CODE_ERRORS = { format: 'otp.format', mismatch: 'otp.wrong', replayed: 'otp.replayed' } as const;

export interface OneTimeCodeDeps {
  repo: FactorsRepo;
  sealer: Sealer;
  ephemeral: EphemeralStore;
  /**
   * Attempts per account from one address, and per account from anywhere: six digits fall to
   * guessing without them, and someone holding only the password, elsewhere, must not be able
   * to lock the owner out of their codes for long.
   */
  attemptsPerAccountAndAddress: Limiter;
  attemptsPerAccount: Limiter;
}

export function createOneTimeCodes({
  repo,
  sealer,
  ephemeral,
  attemptsPerAccountAndAddress,
  attemptsPerAccount,
}: OneTimeCodeDeps) {
  const enrolmentKey = (binding: string) => `totp:enrol:${binding}`;

  const limits = (personId: string, ip: string) =>
    [
      [attemptsPerAccountAndAddress, `${personId}:${addressKey(ip)}`],
      [attemptsPerAccount, personId],
    ] as const;

  /** A typing slip (neither six digits nor, where one is allowed, a recovery code) is not counted as a guess. */
  function requireWellFormed(input: string, recoveryCode: boolean) {
    if (totpToken(input) || (recoveryCode && normaliseRecoveryCode(input))) return;
    throw new AppError(CODE_ERRORS.format, 400, { field: 'otp' });
  }

  async function consumeAttempt(personId: string, ip: string) {
    for (const [limiter, key] of limits(personId, ip)) await consumeOrRefuse(limiter, key, 'rate.otp', 'otp');
  }

  const resetAttempts = (personId: string, ip: string) =>
    Promise.all(limits(personId, ip).map(([limiter, key]) => limiter.reset(key)));

  return {
    /** A new secret for this session (the same one again while it is pending), with its QR code. */
    async startEnrolment(binding: string, person: { idNumberMasked: string }) {
      const pending = await ephemeral.peek<{ secret: string }>(enrolmentKey(binding));
      const secret = pending ? sealer.open(Buffer.from(pending.secret, 'base64')) : newTotpSecret();
      if (!pending)
        await ephemeral.put(
          enrolmentKey(binding),
          { secret: sealer.seal(secret).toString('base64') },
          ENROLMENT_SECONDS,
        );
      const uri = totpUri(secret, person.idNumberMasked);
      return { secret, uri, qr: await qrDataUrl(uri) };
    },

    /** Checks the first code from the app, stores the authenticator, returns the recovery codes (shown once). */
    async confirmEnrolment(binding: string, personId: string, code: string, ip: string): Promise<string[]> {
      requireWellFormed(code, false);
      await consumeAttempt(personId, ip);
      const pending = await ephemeral.peek<{ secret: string }>(enrolmentKey(binding));
      if (!pending) throw new AppError('totp.enrolment_expired', 400);
      const secret = sealer.open(Buffer.from(pending.secret, 'base64'));
      const check = checkTotp(secret, code, { lastStep: null });
      if (!check.ok) throw new AppError(CODE_ERRORS[check.reason], 400, { field: 'otp' });
      await ephemeral.take(enrolmentKey(binding));
      const recoveryCodes = newRecoveryCodes();
      await repo.saveTotp(
        personId,
        sealer.seal(secret),
        check.step,
        recoveryCodes.map((c) => sealer.index(c)),
        { actor: personId, action: 'totp.added', subject: personId, ip },
      );
      await resetAttempts(personId, ip);
      return recoveryCodes;
    },

    /** A TOTP code or an unused recovery code; throws with what to do otherwise. */
    async verify(personId: string, input: string, ip: string): Promise<void> {
      requireWellFormed(input, true);
      await consumeAttempt(personId, ip);
      const factor = await repo.findTotp(personId);
      if (!factor) throw new AppError('otp.wrong', 400, { field: 'otp' });
      const recovery = normaliseRecoveryCode(input);
      if (recovery) {
        const audit = { actor: personId, action: 'recovery_code.used', subject: personId, ip };
        if (!(await repo.useRecoveryCode(personId, sealer.index(recovery), audit)))
          throw new AppError('otp.recovery_used', 400, { field: 'otp' });
      } else {
        const check = checkTotp(sealer.open(factor.secretEnc), input, { lastStep: factor.lastStep });
        if (!check.ok) throw new AppError(CODE_ERRORS[check.reason], 400, { field: 'otp' });
        // Two requests racing with one code: only the first moves the step on.
        if (!(await repo.advanceTotpStep(personId, check.step)))
          throw new AppError('otp.replayed', 400, { field: 'otp' });
      }
      await resetAttempts(personId, ip);
    },

    remove: (personId: string, ip: string) =>
      repo.deleteTotp(personId, { actor: personId, action: 'totp.removed', subject: personId, ip }),
  };
}

export type OneTimeCodes = ReturnType<typeof createOneTimeCodes>;
