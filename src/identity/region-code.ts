/** GB/T 2260 administrative division codes: six digits under a province-level prefix, e.g. 440106. */
export const REGION_CODE = /^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])\d{4}$/;

export const isRegionCode = (value: string) => REGION_CODE.test(value);

/**
 * What a region code covers, as a prefix: a province (440000) everything under 44, a city
 * (440100) everything under 4401, a county (440106) itself.
 */
export function regionPrefix(code: string): string {
  if (code.endsWith('0000')) return code.slice(0, 2);
  if (code.endsWith('00')) return code.slice(0, 4);
  return code;
}

/**
 * The prefix an administrator of `region` sees: a province-level administrator sees every
 * account of the deployment (people born elsewhere live in the province too), others what lies
 * under their city or county.
 */
export const scopeOf = (region: string) => (region.endsWith('0000') ? '' : regionPrefix(region));

export const covers = (region: string, target: string) => target.startsWith(scopeOf(region));

/** 0 for a province (440000), 1 for a city (440100), 2 for a county (440106). */
export const levelOf = (code: string) => (code.endsWith('0000') ? 0 : code.endsWith('00') ? 1 : 2);
