/**
 * The identifier of an electronic certificate (电子证照标识, GB/T 36904-2018):
 * `1.2.156.3005.2.<type code>.<issuer's credit code>.<serial>.<version>.<check character>`.
 * The type code and serial are upper-case letters and digits (1–32), the issuer a valid unified
 * social credit code, the version 1–3 digits; the check character is ISO/IEC 7064 MOD 37,36
 * (GB/T 17710) over the type code, issuer, serial and version written together without dots.
 *
 * @example
 *   const result = parseCertificateId('1.2.156.3005.2.11100000000013338W011.91440101MA5CYUF63X.2019081500001.001.C');
 *   if (result.ok) result.value.issuer; // '91440101MA5CYUF63X'
 *   else result.error;                  // 'certificate_id.check'
 */
import { parseCreditCode } from '../identity/credit-code.ts';
import type { Parsed } from '../identity/id-number.ts';

const PREFIX = '1.2.156.3005.2.';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PART = /^[0-9A-Z]{1,32}$/;

export type CertificateIdError =
  | 'certificate_id.prefix'
  | 'certificate_id.structure'
  | 'certificate_id.issuer'
  | 'certificate_id.check';

export interface CertificateId {
  /** The whole identifier, upper case. */
  id: string;
  typeCode: string;
  issuer: string;
  serial: string;
  version: string;
}

/** ISO/IEC 7064 MOD 37,36 (a hybrid system over 0–9 A–Z): the check character for `data`. */
export function mod3736CheckCharacter(data: string): string {
  let product = 36;
  for (const char of data) {
    let sum = (product + ALPHABET.indexOf(char)) % 36;
    if (sum === 0) sum = 36;
    product = (sum * 2) % 37;
  }
  return ALPHABET[(37 - product) % 36] as string;
}

export function parseCertificateId(input: string): Parsed<CertificateId, CertificateIdError> {
  const id = input.trim().toUpperCase();
  if (!id.startsWith(PREFIX)) return { ok: false, error: 'certificate_id.prefix' };
  const parts = id.slice(PREFIX.length).split('.');
  const [typeCode = '', issuer = '', serial = '', version = '', check = ''] = parts;
  const shaped =
    parts.length === 5 &&
    PART.test(typeCode) &&
    PART.test(serial) &&
    /^\d{1,3}$/.test(version) &&
    /^[0-9A-Z]$/.test(check);
  if (!shaped) return { ok: false, error: 'certificate_id.structure' };
  if (!parseCreditCode(issuer).ok) return { ok: false, error: 'certificate_id.issuer' };
  if (mod3736CheckCharacter(`${typeCode}${issuer}${serial}${version}`) !== check)
    return { ok: false, error: 'certificate_id.check' };
  return { ok: true, value: { id, typeCode, issuer, serial, version } };
}
