/**
 * A forgotten password, recovered without anyone's help: the person gives their identity number
 * and proved mobile number, a six-digit code goes to that number, and after the code (and the
 * account's passkey or authenticator app, when it has one) they choose a new password, which ends
 * every sign-in. The proved number is then told, so that someone else's recovery does not go
 * unnoticed.
 *
 * Asking tells nobody anything: the answer is the same whether or not the number and the
 * identity number belong together (a code is sent only when they do). Codes sent are limited per
 * account and number, per number and per address; five wrong codes end the attempt. While the
 * messaging service fails, every request is told so (503). An administrator or counter staff
 * without a second factor is not recovered here: the phone alone would hand over the console. The attempt lives ten
 * minutes in the shared ephemeral store under a random id the browser keeps in a cookie, bound
 * to the browser's CSRF token (a `__Host-` cookie in production), so an attempt planted in
 * someone else's browser by a sibling site is not theirs.
 *
 * @example
 *   const { flow, phone } = await recovery.start({ idNumber, phone }, ip, csrf);  // code sent (or not)
 *   const attempt = attemptOf(flow, csrf);                     // what every later step names
 *   const next = await recovery.confirmCode(attempt, '123456'); // 'factor' | 'password'
 *   await recovery.finish(attempt, 'new password', 'new password', ip);
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { EphemeralStore } from '../auth/ephemeral.ts';
import { addressKey, consumeOrRefuse, type Limiter } from '../auth/rate-limit.ts';
import { AppError, checkFields } from '../errors.ts';

import type { Sealer } from '../identity/crypto.ts';
import { maskPhone } from '../identity/phone.ts';
import type { Notifier } from '../notify/notifier.ts';
import type { Notify } from './notices.ts';
import { setNewPassword } from './password-reset.ts';
import { requiredCode } from './phone.ts';
import type { AccountsRepo, Person } from './repo.ts';
import { parseIdNumberOrThrow, requiredPhone } from './service.ts';

const VALID_SECONDS = 10 * 60;

/** What stands between the code and the new password. */
export type Step = 'code' | 'factor' | 'password';

export interface Factors {
  totp: boolean;
  passkey: boolean;
}

interface Flow {
  /** Absent when the numbers did not belong together: every code is then wrong. */
  personId?: string;
  codeHash: string;
  step: Step;
}

const hashOf = (code: string) => createHash('sha256').update(code).digest('base64url');

/** The attempt a browser names: its cookie's id, bound to its CSRF token. */
export const attemptOf = (flow: string, binding: string) =>
  /^[\w-]{32}$/.test(flow) ? `${flow}.${hashOf(`recovery:${binding}`)}` : '';

export function createRecovery(deps: {
  repo: Pick<AccountsRepo, 'findPersonByIdHash' | 'findPersonById' | 'setPassword' | 'holdsDuties'>;
  sealer: Sealer;
  ephemeral: EphemeralStore;
  notifier: Pick<Notifier, 'notice' | 'failing'>;
  notify: Notify;
  /** The second factors the account has: one of them must be shown too. */
  factorsOf(personId: string): Promise<Factors>;
  sendsPerAccount: Limiter;
  sendsPerNumber: Limiter;
  sendsPerAddress: Limiter;
  /** Wrong codes per attempt: past them the attempt ends. */
  wrongCodes: Limiter;
}) {
  const keyOf = (flow: string) => `recovery:${flow}`;

  async function flowOf(flow: string): Promise<Flow> {
    const found = flow ? await deps.ephemeral.peek<Flow>(keyOf(flow)) : undefined;
    if (!found) throw new AppError('recovery.expired', 400);
    return found;
  }

  async function personOf(flow: Flow): Promise<Person> {
    const person = flow.personId ? await deps.repo.findPersonById(flow.personId) : undefined;
    if (person?.status !== 'active') throw new AppError('recovery.expired', 400);
    return person;
  }

  return {
    /** Starts an attempt; returns its id (for a cookie) and the number, masked, for the code page. */
    async start(input: { idNumber: string; phone: string }, ip: string, binding: string) {
      const [idNumber, phone] = checkFields(
        () => parseIdNumberOrThrow(input.idNumber),
        () => requiredPhone(input.phone),
      );

      // While the messaging service fails, nobody is told a code is on its way (the same for all).
      if (deps.notifier.failing()) throw new AppError('notify.failed', 503);
      await consumeOrRefuse(deps.sendsPerAddress, addressKey(ip), 'rate.ip');
      const idHash = deps.sealer.index(idNumber);
      await consumeOrRefuse(deps.sendsPerAccount, `${idHash.toString('base64url')}:${phone}`, 'rate.recover');
      await consumeOrRefuse(deps.sendsPerNumber, phone, 'rate.phone');
      const person = await deps.repo.findPersonByIdHash(idHash);
      const matches = person?.status === 'active' && person.phone === phone && person.phoneVerifiedAt;
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const flow = randomBytes(24).toString('base64url');
      const stored: Flow = matches
        ? { personId: person.id, codeHash: hashOf(code), step: 'code' }
        : { codeHash: hashOf(randomBytes(16).toString('hex')), step: 'code' };
      await deps.ephemeral.put(keyOf(attemptOf(flow, binding)), stored, VALID_SECONDS);
      // Not awaited: how long delivery takes must not tell whether the numbers belong together.
      if (matches) void deps.notifier.notice({ kind: 'recovery_code', personId: person.id, phone, code });
      return { flow, phone: maskPhone(phone) };
    },

    /** The step this attempt is at; `recovery.expired` when there is none. */
    step: async (flow: string): Promise<Step> => (await flowOf(flow)).step,

    /** Checks the code from the phone; returns what comes next. */
    async confirmCode(flow: string, code: string): Promise<Step> {
      const stored = await flowOf(flow);
      if (stored.step !== 'code') return stored.step;
      const given = Buffer.from(hashOf(requiredCode(code)));
      // Counted before the comparison, so parallel guesses cannot outrun the limit.
      if (!(await deps.wrongCodes.consume(flow)).allowed) {
        await deps.ephemeral.take(keyOf(flow));
        throw new AppError('recovery.too_many', 400);
      }
      if (!timingSafeEqual(given, Buffer.from(stored.codeHash)))
        throw new AppError('phone.code_wrong', 400, { field: 'code' });
      const person = await personOf(stored);
      const factors = await deps.factorsOf(person.id);
      const step = factors.totp || factors.passkey ? 'factor' : 'password';
      // An administrator's or counter staff's account needs more than the phone: a second factor
      // of its own, or an administrator above them (as at the desk).
      if (step === 'password' && (await deps.repo.holdsDuties(person.id))) {
        await deps.ephemeral.take(keyOf(flow));
        throw new AppError('recovery.privileged', 403);
      }
      await deps.ephemeral.put(keyOf(flow), { ...stored, step }, VALID_SECONDS);
      return step;
    },

    /** The person whose second factor the attempt waits for, and which factors they have. */
    async awaitingFactor(flow: string): Promise<{ person: Person; factors: Factors }> {
      const stored = await flowOf(flow);
      if (stored.step !== 'factor') throw new AppError('recovery.expired', 400);
      const person = await personOf(stored);
      return { person, factors: await deps.factorsOf(person.id) };
    },

    /** The second factor was shown (checked by the caller against `awaiting`'s person). */
    async factorShown(flow: string) {
      const stored = await flowOf(flow);
      await deps.ephemeral.put(keyOf(flow), { ...stored, step: 'password' }, VALID_SECONDS);
    },

    async finish(flow: string, password: string, confirm: string, ip: string) {
      const stored = await flowOf(flow);
      if (stored.step !== 'password') throw new AppError('recovery.expired', 400);
      const person = await personOf(stored);
      const idNumber = deps.sealer.open(person.idNumberEnc);
      await setNewPassword(
        deps,
        person,
        { password, confirm, idNumber },
        {
          useUp: async () => Boolean(await deps.ephemeral.take(keyOf(flow))),
          expired: 'recovery.expired',
          action: 'password.recovered',
          ip,
        },
      );
    },
  };
}

export type Recovery = ReturnType<typeof createRecovery>;
