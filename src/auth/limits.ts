/**
 * Every rate limit of Yitong in one table: what it counts, how many, over what window. An
 * operator may change any of them with RATE_LIMITS (config.ts), e.g.
 * `RATE_LIMITS="pwd:acct=20/3600,reg:ip=10/3600"`. Limits keyed by a phone number store a keyed
 * hash of it, never the number (`hidden`).
 *
 * @example
 *   const limiter = limiterFor('pwd:acct+ip'); // 5 per account from one address per 15 minutes
 */
const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface LimitSetting {
  limit: number;
  windowSeconds: number;
  /** The key is a phone number: counters hold a keyed hash of it. */
  hidden?: boolean;
}

export const LIMITS = {
  // Passwords (accounts/service.ts): guessers slowed, owners never locked out.
  'pwd:acct+ip': { limit: 5, windowSeconds: 15 * MINUTE },
  'pwd:acct': { limit: 30, windowSeconds: HOUR },
  'pwd:acct+net': { limit: 1, windowSeconds: HOUR },
  'pwd:acct:fresh': { limit: 10, windowSeconds: HOUR },
  'pwd:ip': { limit: 50, windowSeconds: 15 * MINUTE },
  'reg:ip': { limit: 20, windowSeconds: HOUR },
  // Second factors.
  'passkey:ip': { limit: 50, windowSeconds: 15 * MINUTE },
  'otp:acct+ip': { limit: 5, windowSeconds: 15 * MINUTE },
  'otp:acct': { limit: 30, windowSeconds: HOUR },
  // Authoritative sources: never an oracle.
  'idv:acct': { limit: 5, windowSeconds: DAY },
  // Counter staff's look-ups by number: a busy desk's day, not a sweep of the province.
  'staff:lookup': { limit: 120, windowSeconds: HOUR },
  'registry:acct': { limit: 5, windowSeconds: DAY },
  // Codes and notices to phones.
  'sms:acct': { limit: 5, windowSeconds: HOUR },
  'sms:acct+phone': { limit: 3, windowSeconds: HOUR, hidden: true },
  'sms:phone': { limit: 10, windowSeconds: HOUR, hidden: true },
  'sms-code:acct': { limit: 5, windowSeconds: 15 * MINUTE },
  // Self-service recovery (accounts/recovery.ts): codes sent, and wrong codes per attempt. Per
  // account and number, so that a stranger with the identity number cannot use up the owner's.
  'recover:acct+phone': { limit: 3, windowSeconds: HOUR, hidden: true },
  'recover:phone': { limit: 3, windowSeconds: HOUR, hidden: true },
  'recover:ip': { limit: 10, windowSeconds: HOUR },
  'recover-code:flow': { limit: 5, windowSeconds: 15 * MINUTE },
  'notice:phone': { limit: 10, windowSeconds: HOUR, hidden: true },
  'notice:registration': { limit: 1, windowSeconds: DAY, hidden: true },
  // Department self-registration (oidc/registration.ts): registrations and RFC 7592 updates per
  // department, each a change every node hears and acts on.
  'site-reg:dept': { limit: 100, windowSeconds: HOUR },
} satisfies Record<string, LimitSetting>;

export type LimitName = keyof typeof LIMITS;

export const isLimitName = (name: string): name is LimitName => Object.hasOwn(LIMITS, name);
