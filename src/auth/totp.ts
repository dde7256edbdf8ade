/**
 * Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30-second steps), as every
 * authenticator app speaks them, and one-time recovery codes. Pure functions: storage, rate
 * limits and remembering the last step used are the caller's (one-time-codes.ts).
 *
 * @example
 *   const secret = newTotpSecret();
 *   const qr = await qrDataUrl(totpUri(secret, '330106********1234'));
 *   const check = checkTotp(secret, '123 456', { lastStep: null }); // { ok: true, step } or { ok: false, reason }
 */
import { randomBytes } from 'node:crypto';
import { generateSecret, verifySync } from 'otplib';
import QRCode from 'qrcode';
import { compactTyped } from '../identity/typed.ts';

const PERIOD = 30;
const DIGITS = 6;
const ISSUER = '一通';
/**
 * 32 symbols, so each character is 5 unbiased bits: no 1, i, l or o. The 0 stays because a
 * typed o is read as 0. A superset of the earlier 31-symbol alphabet, so codes already handed
 * out still normalise.
 */
const RECOVERY_ALPHABET = '023456789abcdefghjkmnpqrstuvwxyz';
const RECOVERY = /^[02-9a-hjkmnp-z]{10}$/;

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: 'format' | 'mismatch' | 'replayed' };

/** 160 random bits, base32 (RFC 4226 asks for at least 128). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/**
 * The Key URI Format, with every parameter spelled out. A colon in the label is escaped
 * because apps split issuer from account at the first one.
 */
export function totpUri(secret: string, label: string): string {
  const params = `secret=${encodeURIComponent(secret)}&issuer=${encodeURIComponent(ISSUER)}&algorithm=SHA1&digits=${DIGITS}&period=${PERIOD}`;
  return `otpauth://totp/${encodeURIComponent(ISSUER)}:${encodeURIComponent(label)}?${params}`;
}

export function qrDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
}

/** The six digits of a code as typed (full-width, `123 456`), or undefined when it is not one. */
export function totpToken(input: string): string | undefined {
  const token = compactTyped(input, { hyphens: true });
  return /^\d{6}$/.test(token) ? token : undefined;
}

/**
 * Accepts the current step and one either side (clock skew). A code for a step at or before
 * `lastStep` (the person's last accepted one) is a replay, so each code works once. otplib
 * compares the codes in constant time.
 */
export function checkTotp(
  secret: string,
  input: string,
  options: { lastStep: number | null; now?: number },
): TotpCheck {
  const token = totpToken(input);
  if (!token) return { ok: false, reason: 'format' };
  const epoch = Math.floor((options.now ?? Date.now()) / 1000);
  // A tolerance of one period each way covers exactly steps −1..+1, wherever `now` falls in its step.
  const result = verifySync({ secret, token, epoch, period: PERIOD, digits: DIGITS, epochTolerance: PERIOD });
  if (!result.valid) return { ok: false, reason: 'mismatch' };
  const step = Math.floor(epoch / PERIOD) + result.delta;
  // Not otplib's `afterTimeStep`: it calls a replay a mismatch, and throws if lastStep is ahead of the clock.
  if (options.lastStep !== null && step <= options.lastStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step };
}

/** Ten codes of 10 characters (50 bits each), shown as `xxxxx-xxxxx`. */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < 10) {
    const chars = [...randomBytes(10)].map((byte) => RECOVERY_ALPHABET[byte & 31]).join('');
    codes.add(`${chars.slice(0, 5)}-${chars.slice(5)}`);
  }
  return [...codes];
}

/** What a person typed (any case, spaces, hyphens, o for 0) in the canonical form, or undefined. */
export function normaliseRecoveryCode(input: string): string | undefined {
  const chars = compactTyped(input, { hyphens: true }).toLowerCase().replaceAll('o', '0');
  return RECOVERY.test(chars) ? `${chars.slice(0, 5)}-${chars.slice(5)}` : undefined;
}
