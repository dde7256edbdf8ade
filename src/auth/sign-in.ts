/**
 * Combines the strategies (password, passkey, one-time code) into one sign-in: which factors a
 * person still owes, and what the finished sign-in reports as `acr`/`amr`. A sign-in that is
 * half done (password checked, second factor pending) is kept in the shared ephemeral store
 * under its interaction, never in a cookie or in process memory.
 *
 * A person who enrolled an authenticator app is always asked for a code after their password:
 * that is what they enrolled it for. Passkeys are a way in of their own, not a second step.
 */
import type { EphemeralStore } from './ephemeral.ts';
import type { FactorsRepo } from './repo.ts';
import { ACR, type Acr, acrFor, amrFor, type Method, rankOf, satisfies } from './strength.ts';

const PENDING_SECONDS = 10 * 60;
const METHODS: readonly string[] = ['pwd', 'otp', 'hwk', 'swk'] satisfies Method[];

export interface Progress {
  accountId: string;
  methods: Method[];
}

export interface Requirement {
  /** The strength to reach; undefined when the factors done already suffice. */
  need: Acr | undefined;
  /** What the person can use for it. */
  totp: boolean;
  passkeys: number;
}

export function createSignIn(deps: {
  ephemeral: EphemeralStore;
  factors: Pick<FactorsRepo, 'factorSummary'>;
}) {
  const keyOf = (uid: string) => `signin:${uid}`;
  return {
    pending: (uid: string) => deps.ephemeral.peek<Progress>(keyOf(uid)),
    savePending: (uid: string, progress: Progress) =>
      deps.ephemeral.put(keyOf(uid), progress, PENDING_SECONDS),
    clearPending: (uid: string) => deps.ephemeral.take(keyOf(uid)),

    /** What remains after `progress`, given what the site asked for. */
    async requirement(progress: Progress, requested: Acr | undefined): Promise<Requirement> {
      const summary = await deps.factors.factorSummary(progress.accountId);
      const own = summary.totp && progress.methods.includes('pwd') ? ACR.mfa : undefined;
      const target = rankOf(own) > rankOf(requested) ? own : requested;
      const need = satisfies(acrFor(progress.methods), target) ? undefined : target;
      return { need, totp: summary.totp, passkeys: summary.passkeys };
    },
  };
}

/** The login result for the provider: the acr and amr of the methods that really succeeded. */
export function loginResult(progress: Progress) {
  return {
    accountId: progress.accountId,
    acr: acrFor(progress.methods),
    amr: amrFor(progress.methods),
    remember: true,
  };
}

/** The methods behind a session's `amr` (without the `mfa` marker). */
export const methodsOf = (amr: readonly string[] | undefined): Method[] =>
  (amr ?? []).filter((method): method is Method => METHODS.includes(method));

export type SignIn = ReturnType<typeof createSignIn>;
