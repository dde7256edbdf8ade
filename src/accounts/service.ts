/**
 * Citizens: registration with the GB 11643 rules, sign-in by identity number and password with
 * brute-force limits, and the claims a site may receive.
 *
 * @example
 *   const sub = await accounts.register({ idNumber, name, phone, password, passwordConfirm }, ip);
 *   const person = await accounts.authenticate(idNumber, password, ip);
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { checkNewPassword, hashPassword, verifyPassword } from '../auth/password.ts';
import { addressKey, consumeOrRefuse, type Limiter, networkKey, refusal } from '../auth/rate-limit.ts';
import { AppError, checkFields, isAppError } from '../errors.ts';

import type { Sealer } from '../identity/crypto.ts';
import { factsOf, type IdNumber, parseIdNumber } from '../identity/id-number.ts';
import { parsePersonName } from '../identity/person-name.ts';
import { parseMobile } from '../identity/phone.ts';
import { compactTyped } from '../identity/typed.ts';
import type { Notify } from './notices.ts';
import type { AccountsRepo, Person } from './repo.ts';

export interface RegistrationInput {
  idNumber: string;
  name: string;
  phone?: string | undefined;
  password: string;
  passwordConfirm: string;
}

export interface AccountLimits {
  /** Attempts per account from one address: stops a guesser without letting them lock the citizen out elsewhere. */
  passwordPerAccountAndAddress: Limiter;
  /**
   * Attempts per account from anywhere, by browsers the account never signed in on: past it, a
   * guesser spread over many addresses gets one try per address, while the owner with the right
   * password on a fresh address, or on a browser that signed in before, still gets in.
   */
  passwordPerAccount: Limiter;
  /** Tries per account from one network (IPv6 by /48) an hour: while under attack, one. */
  passwordPerAccountAndNetwork: Limiter;
  /** Tries an hour per account, while under attack, from networks that had not tried it. */
  passwordUnderAttack: Limiter;
  /** Failed attempts per address: one source trying many accounts. Successes are refunded (shared NATs). */
  passwordPerAddress: Limiter;
  registrationPerAddress: Limiter;
}

export function parseIdNumberOrThrow(input: string) {
  const parsed = parseIdNumber(input);
  if (!parsed.ok) throw new AppError(parsed.error, 400, { field: 'id_number' });
  return parsed.value;
}

/** A mainland mobile number, or null when none was given; AppError('phone.invalid') otherwise. */
export function optionalPhone(input: string | undefined): string | null {
  if (!input?.trim()) return null;
  return requiredPhone(input);
}

/** A mainland mobile number as typed (spaces and hyphens ignored); AppError('phone.invalid') otherwise. */
export function requiredPhone(input: string): string {
  const phone = parseMobile(input);
  if (!phone) throw new AppError('phone.invalid', 400, { field: 'phone' });
  return phone;
}

/** A name as on the identity card (see person-name.ts), NFC, inner whitespace collapsed; AppError naming the rule otherwise. */
export function normaliseName(input: string): string {
  const parsed = parsePersonName(input);
  if (!parsed.ok) throw new AppError(parsed.error, 400, { field: 'name' });
  return parsed.value;
}

export function createAccountsService(
  repo: AccountsRepo,
  sealer: Sealer,
  /** Tells an account's proved number that someone tried to register with its identity number. */
  notifyRegistrationAttempt: Notify,
  limits: AccountLimits,
  /** Told of every sign-in step: by method, the strength reached and the result (metrics). */
  observe?: { signIn(method: string, acr: string, result: string): void },
) {
  const macOf = (person: Pick<Person, 'id' | 'signedOutAt'>, nonce: string) =>
    sealer
      .index(`device:${person.id}:${nonce}:${person.signedOutAt?.getTime() ?? 0}`)
      .subarray(0, 16)
      .toString('base64url');
  const tagMatches = (person: Pick<Person, 'id' | 'signedOutAt'>, tag: string) => {
    const [nonce = '', mac = ''] = tag.split('~');
    const expected = Buffer.from(macOf(person, nonce));
    const given = Buffer.from(mac);
    return nonce.length > 0 && given.length === expected.length && timingSafeEqual(given, expected);
  };

  /**
   * Past the per-account limit the account is under attack, and a browser it never signed in on
   * is slowed, never blocked: a network (IPv6 by /48) that already tried it this hour waits, and
   * the others share a few more tries an hour — the owner's right password on a fresh network
   * still passes, and a known browser or a passkey is never held back.
   */
  async function slowDownUnderAttack(account: string, network: string) {
    // Both counted on every try, so counted together; a refusal only when they refuse together.
    const [fromHere, everywhere] = await Promise.all([
      limits.passwordPerAccountAndNetwork.count(network),
      limits.passwordPerAccount.count(account),
    ]);
    if (everywhere.allowed) return;
    if (!fromHere.allowed) {
      limits.passwordPerAccountAndNetwork.refused();
      throw refusal('rate.account', fromHere.retryAfterSeconds);
    }
    const fresh = await limits.passwordUnderAttack.consume(account);
    if (!fresh.allowed) throw refusal('rate.account', fresh.retryAfterSeconds);
  }

  /** A failed sign-in in the audit trail: who (when the account is known), how, why; never the number. */
  const failed = (ip: string, method: string, reason: string, personId?: string) => {
    observe?.signIn(method, '', reason);
    return repo.recordAudit({
      actor: personId ?? 'anonymous',
      action: 'signin.failed',
      subject: personId,
      ip,
      details: { method, reason },
    });
  };

  return {
    /**
     * Creates the account and returns its `sub`. A number registered before gets no second
     * account and the same answer, so that registering tells nobody which numbers have one: the
     * owner's proved number is told instead, and undefined comes back.
     */
    async register(input: RegistrationInput, ip?: string): Promise<string | undefined> {
      if (ip) await consumeOrRefuse(limits.registrationPerAddress, addressKey(ip), 'rate.register');
      const [idNumber, name, phone] = checkFields(
        () => parseIdNumberOrThrow(input.idNumber),
        () => normaliseName(input.name),
        () => optionalPhone(input.phone),
        () => checkNewPassword(input.password, input.passwordConfirm, compactTyped(input.idNumber)),
      );

      const facts = factsOf(idNumber);
      const id = randomBytes(16).toString('base64url');
      const inserted = await repo
        .insertPerson(
          {
            id,
            idNumberHmac: sealer.index(idNumber),
            idNumberEnc: sealer.seal(idNumber),
            idNumberMasked: facts.masked,
            name,
            gender: facts.gender,
            birthdate: facts.birthdate,
            phone,
            passwordHash: await hashPassword(input.password),
          },
          { actor: id, action: 'account.registered', subject: id, ip },
        )
        .then(
          () => true,
          (error: unknown) => {
            if (isAppError(error) && error.code === 'account.exists') return false;
            throw error;
          },
        );
      if (inserted) return id;
      const owner = await repo.findPersonByIdHash(sealer.index(idNumber));
      if (owner) {
        await repo.recordAudit({
          actor: 'anonymous',
          action: 'account.registration_refused',
          subject: owner.id,
          ip,
        });
        notifyRegistrationAttempt(owner, { kind: 'registration_attempted' }).catch(() => {});
      }
      return undefined;
    },

    /**
     * The person when the password matches; otherwise a counted failure and a uniform error.
     * `knownDevices`: the tags of the browser's device cookie (`deviceTag`), from earlier sign-ins.
     */
    async authenticate(
      idNumberInput: string,
      password: string,
      ip: string,
      knownDevices: readonly string[] = [],
    ): Promise<Person> {
      const idNumber = parseIdNumberOrThrow(idNumberInput);
      const account = sealer.index(idNumber).toString('base64url');
      const address = addressKey(ip);
      const here = `${account}:${address}`;
      const network = `${account}:${networkKey(ip)}`;
      const person = await repo.findPersonByIdHash(sealer.index(idNumber));
      const recognised = person !== undefined && knownDevices.some((tag) => tagMatches(person, tag));
      // Counted before the password is checked, so concurrent guesses cannot outrun the limits.
      try {
        await consumeOrRefuse(limits.passwordPerAddress, address, 'rate.ip');
        await consumeOrRefuse(limits.passwordPerAccountAndAddress, here, 'rate.account');
        if (!recognised) await slowDownUnderAttack(account, network);
      } catch (error) {
        await failed(ip, 'pwd', 'rate_limited');
        throw error;
      }

      // One argon2id verification whether or not the account exists: timing tells nothing.
      const ok = await verifyPassword(person?.passwordHash, password);
      if (!ok || !person) {
        await failed(ip, 'pwd', person ? 'wrong_password' : 'unknown_account', person?.id);
        throw new AppError('account.credentials', 401);
      }
      if (person.status !== 'active') {
        await failed(ip, 'pwd', 'locked', person.id);
        throw new AppError('account.locked', 403);
      }
      await Promise.all([
        limits.passwordPerAccountAndAddress.reset(here),
        limits.passwordPerAccountAndNetwork.reset(network),
        limits.passwordPerAddress.refund(address),
        recognised ? undefined : limits.passwordPerAccount.refund(account),
      ]);
      return person;
    },

    /**
     * What a browser keeps (in a cookie) to show this account signed in on it: a random nonce and
     * a keyed MAC, so no two browsers share one and nobody else can make one; worthless once the
     * account's sign-ins all end (sign out everywhere, a lock, a new password).
     */
    deviceTag(person: Pick<Person, 'id' | 'signedOutAt'>): string {
      const nonce = randomBytes(12).toString('base64url');
      return `${nonce}~${macOf(person, nonce)}`;
    },

    /**
     * A signed-in person changes their password, proving the current one (counted like a sign-in
     * attempt). Every sign-in, this one included, then ends: the person signs in with the new one.
     */
    async changePassword(
      person: Person,
      input: { current: string; password: string; confirm: string },
      ip: string,
    ) {
      const idNumber = sealer.open(person.idNumberEnc);
      // The person's own attempts only: guesses at the sign-in page elsewhere do not stop them here.
      await consumeOrRefuse(
        limits.passwordPerAccountAndAddress,
        `${sealer.index(idNumber).toString('base64url')}:change:${addressKey(ip)}`,
        'rate.account',
      );
      if (!(await verifyPassword(person.passwordHash, input.current))) {
        await failed(ip, 'pwd', 'wrong_password', person.id);
        throw new AppError('account.current_password', 400, { field: 'current_password' });
      }
      checkNewPassword(input.password, input.confirm, idNumber);
      await repo.setPassword(person.id, await hashPassword(input.password), {
        actor: person.id,
        action: 'password.changed',
        subject: person.id,
        ip,
      });
    },

    findPerson: (id: string) => repo.findPersonById(id),
    findPersonByIdNumber: (idNumber: IdNumber) => repo.findPersonByIdHash(sealer.index(idNumber)),
    findConsent: repo.findConsent,
    saveConsent: (personId: string, clientId: string, scopes: string[], ip?: string) =>
      repo.saveConsent(personId, clientId, scopes, {
        actor: personId,
        action: 'consent.granted',
        subject: personId,
        ip,
        details: { client_id: clientId, scopes },
      }),
    /** A finished sign-in: how strong, for which site. */
    recordSignIn(personId: string, details: { acr: string; amr: string[]; client_id: string }, ip: string) {
      observe?.signIn(details.amr.filter((method) => method !== 'mfa').join('+'), details.acr, 'success');
      return repo.recordAudit({ actor: personId, action: 'signin', subject: personId, ip, details });
    },
    recordFailedSignIn: failed,
    /** A site registered itself with a department's initial access token (RFC 7591). */
    recordClientRegistration: (clientId: string, details: Record<string, unknown>, ip: string) =>
      repo.recordAudit({
        actor: 'registration',
        action: 'client.registered',
        subject: clientId,
        ip,
        details: { client_id: clientId, ...details },
      }),
    /** Claims released to a site (in an ID token or at userinfo): which, to whom. */
    recordRelease: (
      personId: string,
      details: {
        client_id: string;
        use: string;
        claims: string[];
        /** Verified items: each with the department it came from; and the service item and purpose. */
        items?: Array<{ item: string; source: string }>;
        purpose?: { service_item: string; purpose: string };
      },
    ) => repo.recordAudit({ actor: 'system', action: 'claims.released', subject: personId, details }),
    /** Decrypts the identity number, only to release it under the `id_number` scope. */
    revealIdNumber: (person: Person) => sealer.open(person.idNumberEnc),
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
