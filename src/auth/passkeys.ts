/**
 * Passkeys (WebAuthn) as a sign-in strategy: registration on the account page, and assertions
 * either passwordless (discoverable credential, the identity number is never typed) or as the
 * second factor for a known person. Each challenge is single-use, expires, lives in the shared
 * ephemeral store and is bound to one interaction or session (`binding`): an assertion made for
 * one session cannot be replayed in another. The relying party id and origin are the issuer's.
 *
 * @example
 *   const options = await passkeys.authenticationOptions(interactionUid);   // to the browser
 *   const { personId, method } = await passkeys.authenticate(interactionUid, responseJson, ip);
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { AppError } from '../errors.ts';
import type { EphemeralStore } from './ephemeral.ts';
import { addressKey, consumeOrRefuse, type Limiter } from './rate-limit.ts';
import type { FactorsRepo } from './repo.ts';
import type { Method } from './strength.ts';

const CHALLENGE_SECONDS = 300;
const NAME = /^[^\p{C}]{1,40}$/u;

export interface PasskeyDeps {
  repo: FactorsRepo;
  ephemeral: EphemeralStore;
  issuer: string;
  rpName: string;
  /** Failed assertions per address (successes are refunded): each failure is an audit row. */
  failuresPerAddress: Limiter;
}

export function createPasskeyService({ repo, ephemeral, issuer, rpName, failuresPerAddress }: PasskeyDeps) {
  const { origin, hostname: rpID } = new URL(issuer);
  const keyOf = (purpose: 'reg' | 'auth', binding: string) => `webauthn:${purpose}:${binding}`;

  /** The challenge issued for this binding, consumed: a second use finds nothing. */
  async function takeChallenge(purpose: 'reg' | 'auth', binding: string) {
    const stored = await ephemeral.take<{ challenge: string; personId?: string }>(keyOf(purpose, binding));
    if (!stored) throw new AppError('passkey.expired', 400);
    return stored;
  }

  return {
    list: (personId: string) => repo.listPasskeys(personId),

    async registrationOptions(binding: string, person: { id: string; name: string; idNumberMasked: string }) {
      const existing = await repo.listPasskeys(person.id);
      const options = await generateRegistrationOptions({
        rpName,
        rpID,
        userID: Buffer.from(person.id, 'base64url'),
        userName: person.idNumberMasked,
        userDisplayName: person.name,
        attestationType: 'none',
        excludeCredentials: existing.map(({ id }) => ({ id })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: CHALLENGE_SECONDS * 1000,
      });
      await ephemeral.put(
        keyOf('reg', binding),
        { challenge: options.challenge, personId: person.id },
        CHALLENGE_SECONDS,
      );
      return options;
    },

    async register(
      binding: string,
      personId: string,
      input: { response: unknown; name: unknown },
      ip: string,
    ) {
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (!NAME.test(name)) throw new AppError('passkey.name', 400, { field: 'name' });
      const stored = await takeChallenge('reg', binding);
      if (stored.personId !== personId) throw new AppError('passkey.failed', 400);
      const verification = await verifyRegistrationResponse({
        response: input.response as RegistrationResponseJSON,
        expectedChallenge: stored.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: true,
      }).catch(() => ({ verified: false as const }));
      if (!verification.verified) throw new AppError('passkey.failed', 400);
      const { credential, credentialBackedUp } = verification.registrationInfo;
      await repo.insertPasskey(
        {
          id: credential.id,
          personId,
          name,
          publicKey: Buffer.from(credential.publicKey),
          counter: credential.counter,
          transports: credential.transports ?? [],
          backedUp: credentialBackedUp,
        },
        { actor: personId, action: 'passkey.added', subject: personId, ip, details: { name } },
      );
    },

    /** Without `personId`: any discoverable passkey (passwordless). With it: only that person's. */
    async authenticationOptions(binding: string, personId?: string) {
      const allowCredentials = personId
        ? (await repo.listPasskeys(personId)).map(({ id }) => ({ id }))
        : undefined;
      const options = await generateAuthenticationOptions({
        rpID,
        allowCredentials,
        userVerification: 'required',
        timeout: CHALLENGE_SECONDS * 1000,
      });
      await ephemeral.put(
        keyOf('auth', binding),
        { challenge: options.challenge, personId },
        CHALLENGE_SECONDS,
      );
      return options;
    },

    /**
     * Verifies an assertion for this binding; the person it proves and the `amr` method. An
     * address with too many failures gets `rate.ip` before anything is checked.
     */
    async authenticate(
      binding: string,
      response: unknown,
      ip: string,
    ): Promise<{ personId: string; method: Method }> {
      const address = addressKey(ip);
      await consumeOrRefuse(failuresPerAddress, address, 'rate.ip');
      const result = await verifyAssertion(binding, response);
      await failuresPerAddress.refund(address);
      return result;
    },

    remove: (personId: string, id: string, ip: string) =>
      repo.deletePasskey(personId, id, { actor: personId, action: 'passkey.removed', subject: personId, ip }),
  };

  async function verifyAssertion(
    binding: string,
    response: unknown,
  ): Promise<{ personId: string; method: Method }> {
    const stored = await takeChallenge('auth', binding);
    const assertion = response as AuthenticationResponseJSON;
    // Credential ids are base64url: anything else is not one of ours.
    const id =
      typeof assertion?.id === 'string' && /^[\w-]{1,1400}$/.test(assertion.id) ? assertion.id : undefined;
    const passkey = id ? await repo.findPasskey(id) : undefined;
    if (!passkey || (stored.personId && passkey.personId !== stored.personId))
      throw new AppError('passkey.unknown', 400);
    if (assertion.response?.userHandle && assertion.response.userHandle !== passkey.personId)
      throw new AppError('passkey.failed', 400);
    const verification = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: stored.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      requireUserVerification: true,
      credential: {
        id: passkey.id,
        publicKey: new Uint8Array(passkey.publicKey),
        counter: passkey.counter,
        transports: passkey.transports as never,
      },
    }).catch(() => undefined);
    if (!verification?.verified) throw new AppError('passkey.failed', 400);
    const { newCounter, credentialBackedUp } = verification.authenticationInfo;
    if (!(await repo.recordPasskeyUse(passkey.id, newCounter))) throw new AppError('passkey.failed', 400);
    // RFC 8176: a synced (backed-up) passkey is a software-held key, a device-bound one hardware.
    return { personId: passkey.personId, method: credentialBackedUp ? 'swk' : 'hwk' };
  }
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
