/**
 * Time-based one-time codes (RFC 6238: SHA-1, 6 digits, 30-second steps), as every
 * authenticator app speaks them, and one-time recovery codes. Pure functions: storage and rate
 * limits are the caller's (one-time-codes.ts).
 *
 * @example
 *   const secret = newTotpSecret();
 *   const check = checkTotp(secret, '123 456', { lastStep: null }); // { ok: true, step } or { ok: false, reason }
 */
import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verifySync } from 'otplib';
import QRCode from 'qrcode';

const PERIOD = 30;
const ISSUER = '一通';
/** Crockford-like base32 without look-alikes (no 0/o, 1/i/l). */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const RECOVERY = /^[a-hjkmnp-z2-9]{10}$/;

export type TotpCheck =
  | { ok: true; step: number }
  | { ok: false; reason: 'format' | 'mismatch' | 'replayed' };

/** 160 random bits, base32 (RFC 4226 asks for at least 128). */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, label: string): string {
  return generateURI({ issuer: ISSUER, label, secret, algorithm: 'sha1', digits: 6, period: PERIOD });
}

export function qrDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
}

/**
 * The current step and one either side are accepted (clock skew); a code of a step at or before
 * `lastStep` (the person's last accepted one) is a replay, so each code works once.
 */
export function checkTotp(
  secret: string,
  input: string,
  options: { lastStep: number | null; now?: number },
): TotpCheck {
  const token = input.replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(token)) return { ok: false, reason: 'format' };
  const epoch = Math.floor((options.now ?? Date.now()) / 1000);
  const result = verifySync({ secret, token, epoch, period: PERIOD, epochTolerance: PERIOD });
  if (!result.valid) return { ok: false, reason: 'mismatch' };
  const step = Math.floor(epoch / PERIOD) + result.delta;
  if (options.lastStep !== null && step <= options.lastStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step };
}

/** Ten codes of 10 characters (≈ 50 bits each), shown as `xxxxx-xxxxx`. */
export function newRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < 10) {
    const chars = [...randomBytes(10)]
      .map((byte) => RECOVERY_ALPHABET[byte % RECOVERY_ALPHABET.length])
      .join('');
    codes.add(`${chars.slice(0, 5)}-${chars.slice(5)}`);
  }
  return [...codes];
}

/** What a person typed (any case, spaces, hyphens) in the canonical form, or undefined. */
export function normaliseRecoveryCode(input: string): string | undefined {
  const chars = input.toLowerCase().replace(/[\s-]/g, '');
  return RECOVERY.test(chars) ? `${chars.slice(0, 5)}-${chars.slice(5)}` : undefined;
}
