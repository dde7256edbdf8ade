/** Mainland China mobile numbers: 11 digits from 13x to 19x; shown masked (`139****5678`). */
import { compactTyped } from './typed.ts';

export const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;

/** A mainland mobile number as typed (`139 1234-5678`), compacted; undefined when it is none. */
export function parseMobile(input: string): string | undefined {
  const phone = compactTyped(input, { hyphens: true });
  return MAINLAND_MOBILE.test(phone) ? phone : undefined;
}

export const maskPhone = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;
