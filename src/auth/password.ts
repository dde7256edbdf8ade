/**
 * Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
 * Unknown accounts are verified against a dummy hash so that timing does not reveal who exists.
 */
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../errors.ts';

export const ARGON2_OPTIONS = {
  algorithm: 2 /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

const COMMON = new Set([
  '12345678',
  '123456789',
  '1234567890',
  '11111111',
  '88888888',
  '00000000',
  '66666666',
  '12341234',
  'password',
  'password1',
  'qwertyui',
  'qwerty123',
  'iloveyou',
  'a1234567',
  'a12345678',
  'abc12345',
  'abcd1234',
  '1qaz2wsx',
  'woaini1314',
  '5201314520',
  'aa123456',
  'zxcvbnm123',
  '147258369',
  '987654321',
]);

/** NIST SP 800-63B: length is what counts; refuse only the very common and the identity number itself. */
export function checkNewPassword(password: string, confirm: string, idNumber?: string): void {
  if (password.length < 8) throw new AppError('password.short', 400, { field: 'password' });
  if (password.length > 128) throw new AppError('password.long', 400, { field: 'password' });
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || (idNumber && lower.includes(idNumber.toLowerCase().slice(-8)))) {
    throw new AppError('password.weak', 400, { field: 'password' });
  }
  if (password !== confirm) throw new AppError('password.mismatch', 400, { field: 'password_confirm' });
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/** Constant-effort check: always runs one argon2id verification, also when there is no account. */
export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('yitong-dummy-password');
  const target = stored ?? (await dummyHash);
  const ok = await verify(target, password).catch(() => false);
  return ok && Boolean(stored);
}
