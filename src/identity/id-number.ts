/**
 * The resident identity number (公民身份号码, GB 11643-1999): 6-digit division code, 8-digit
 * birth date, 3-digit sequence (odd = male), ISO 7064 MOD 11-2 check character.
 *
 * @example
 *   const result = parseIdNumber('11010519491231002x');
 *   if (result.ok) result.value; // '11010519491231002X' as IdNumber
 *   else result.error;           // 'id_number.check'
 */
import { compactTyped } from './typed.ts';

declare const brand: unique symbol;
/** An identity number that passed every rule, normalised (no spaces, ASCII, upper-case X). */
export type IdNumber = string & { readonly [brand]: 'IdNumber' };

export type IdNumberError =
  | 'id_number.required'
  | 'id_number.length'
  | 'id_number.charset'
  | 'id_number.region'
  | 'id_number.date'
  | 'id_number.future'
  | 'id_number.check';

export type Parsed<T, E> = { ok: true; value: T } | { ok: false; error: E };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_MAP = '10X98765432';
/** Province-level prefixes of GB/T 2260, plus 9 for the 2023 foreigners' permanent residence number. */
const PROVINCE_PREFIX = /^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3]|9\d)/;

export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK_MAP[sum % 11] as string;
}

export function parseIdNumber(input: string, today = new Date()): Parsed<IdNumber, IdNumberError> {
  const value = compactTyped(input).toUpperCase();
  const fail = (error: IdNumberError) => ({ ok: false, error }) as const;
  if (value === '') return fail('id_number.required');
  if (value.length !== 18) return fail('id_number.length');
  if (!/^\d{17}[\dX]$/.test(value)) return fail('id_number.charset');
  if (!PROVINCE_PREFIX.test(value)) return fail('id_number.region');
  const birth = birthDateOf(value);
  if (!birth) return fail('id_number.date');
  if (birth > today.toISOString().slice(0, 10)) return fail('id_number.future');
  if (checkCharacter(value) !== value[17]) return fail('id_number.check');
  return { ok: true, value: value as IdNumber };
}

/** 'YYYY-MM-DD' when characters 7–14 are a real calendar date from 1900 on, else undefined. */
function birthDateOf(value: string): string | undefined {
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = year >= 1900 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? date.toISOString().slice(0, 10) : undefined;
}

export interface IdNumberFacts {
  birthdate: string;
  gender: 'male' | 'female';
  /** First 6 and last 4 characters visible: 110105********002X. */
  masked: string;
}

export function factsOf(id: IdNumber): IdNumberFacts {
  return {
    birthdate: birthDateOf(id) as string,
    gender: Number(id[16]) % 2 === 1 ? 'male' : 'female',
    masked: maskIdNumber(id),
  };
}

export function maskIdNumber(id: string): string {
  return `${id.slice(0, 6)}${'*'.repeat(Math.max(0, id.length - 10))}${id.slice(-4)}`;
}
