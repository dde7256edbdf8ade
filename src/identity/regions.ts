/**
 * Names of administrative divisions (GB/T 2260) for people to read instead of codes: the
 * province, a city, or a county with its city (`440106` → 广州市天河区; in a municipality, the
 * municipality: `110101` → 北京市东城区). The table is regions.tsv beside this file; an unknown code is shown
 * as it is.
 *
 * @example
 *   regionName('440100'); // '广州市'
 */
import { readFileSync } from 'node:fs';

const NAMES = new Map(
  readFileSync(new URL('./regions.tsv', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => /^\d{6}\t/.test(line))
    .map((line) => line.split('\t') as [string, string]),
);
/** Statistical groupings, not places: a county under one is named with its province. */
const GROUPING = /^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$/;

export function regionName(code: string): string {
  const province = NAMES.get(`${code.slice(0, 2)}0000`);
  const cityName = NAMES.get(`${code.slice(0, 4)}00`);
  const city = cityName && !GROUPING.test(cityName) ? cityName : province;
  if (code.endsWith('0000')) return province ?? code;
  if (code.endsWith('00')) return cityName ? (city ?? code) : code;
  const county = NAMES.get(code);
  return county && city ? `${city}${county}` : code;
}
