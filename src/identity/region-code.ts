/** GB/T 2260 administrative division codes: six digits under a province-level prefix, e.g. 440106. */
export const REGION_CODE = /^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])\d{4}$/;

export const isRegionCode = (value: string) => REGION_CODE.test(value);
