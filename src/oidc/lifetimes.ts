/** How long what the provider issues lives, in seconds: the engine's `ttl` and the developer page. */
import { SESSION_HOURS } from '../accounts/repo.ts';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How long a grant lives after it was last saved: a site grant unused this long is gone. */
export const GRANT_SECONDS = 30 * DAY;

/** Token lifetimes in seconds, as the provider issues them and the developer page states them. */
export const LIFETIMES = {
  authorizationCode: MINUTE,
  accessToken: 10 * MINUTE,
  idToken: HOUR,
  /** From its issue; every use rotates it (but a fapi2 site's), so a site in use keeps a fresh one. */
  refreshToken: 12 * HOUR,
  /** Counted from the sign-in, not from the last use. */
  session: SESSION_HOURS * HOUR,
  grant: GRANT_SECONDS,
} as const;

/** How long a sign-in's interaction (its pages and steps) may take. */
export const INTERACTION_SECONDS = HOUR;
