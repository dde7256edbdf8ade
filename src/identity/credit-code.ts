/**
 * The unified social credit code (统一社会信用代码, GB 32100-2015) of an enterprise or institution:
 * 18 characters of `0-9 A-H J-N P-R T U W-Y` (no I, O, Z, S, V): registration authority and
 * type, the 6-digit division code of the registering authority, a 9-character organisation code,
 * and a check character. Public registration data: stored in clear.
 *
 * @example
 *   const result = parseCreditCode('91350100m000100y43');
 *   if (result.ok) result.value; // '91350100M000100Y43' as CreditCode
 *   else result.error;           // 'credit_code.check'
 */
import type { Parsed } from './id-number.ts';
import { isRegionCode } from './region-code.ts';
import { compactTyped } from './typed.ts';

declare const brand: unique symbol;
/** A credit code that passed every rule, normalised (no spaces, ASCII, upper case). */
export type CreditCode = string & { readonly [brand]: 'CreditCode' };

export type CreditCodeError =
  | 'credit_code.required'
  | 'credit_code.length'
  | 'credit_code.charset'
  | 'credit_code.region'
  | 'credit_code.check';

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** The check character for the first 17 characters (which must be from the charset). */
export function creditCheckCharacter(first17: string): string {
  const sum = [...first17].reduce(
    (total, char, i) => total + CHARSET.indexOf(char) * (WEIGHTS[i] as number),
    0,
  );
  return CHARSET[(31 - (sum % 31)) % 31] as string;
}

export function parseCreditCode(input: string): Parsed<CreditCode, CreditCodeError> {
  const code = compactTyped(input).toUpperCase();
  if (!code) return { ok: false, error: 'credit_code.required' };
  if (code.length !== 18) return { ok: false, error: 'credit_code.length' };
  if (![...code].every((char) => CHARSET.includes(char))) return { ok: false, error: 'credit_code.charset' };
  if (!isRegionCode(code.slice(2, 8))) return { ok: false, error: 'credit_code.region' };
  if (creditCheckCharacter(code.slice(0, 17)) !== code[17]) return { ok: false, error: 'credit_code.check' };
  return { ok: true, value: code as CreditCode };
}

/** The division code embedded in a valid code: where the entity was registered. */
export const regionOf = (code: CreditCode) => code.slice(2, 8);
