/**
 * How a sign-in session is shown on the person's page: the browser and system read from the
 * User-Agent, and where it connected from: the network with the last part of the address hidden
 * and, when the deployment has an address table (`IP_AREAS_FILE`), the area. The full address
 * stays in the audit trail only.
 *
 * @example
 *   describeDevice('Mozilla/5.0 (Linux; Android 14) … Chrome/131.0.0.0 Mobile Safari/537.36'); // 'Chrome 131 · Android'
 *   createPlaces([{ network: '36.24.0.0/13', area: '浙江省杭州市' }])('36.24.117.9');
 *   // { network: '36.24.117.*', area: '浙江省杭州市' }
 */
import { BlockList, isIPv4 } from 'node:net';
import { ipv6Groups, plainAddress } from '../auth/rate-limit.ts';

// Order matters: in-app browsers and Chromium derivatives also claim to be Chrome and Safari.
const BROWSERS: Array<[string, RegExp]> = [
  ['WeChat', /MicroMessenger\/(\d+)/],
  ['Alipay', /AlipayClient\/(\d+)/],
  ['Edge', /Edg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /OPR\/(\d+)/],
  ['Samsung Internet', /SamsungBrowser\/(\d+)/],
  ['UC', /UCBrowser\/(\d+)/],
  ['QQ Browser', /QQBrowser\/(\d+)/],
  ['Firefox', /(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /(?:Chrome|CriOS)\/(\d+)/],
  ['Safari', /Version\/(\d+)[\d.]* (?:Mobile\/\w+ )?Safari/],
];
const SYSTEMS: Array<[string, RegExp]> = [
  ['HarmonyOS', /HarmonyOS|OpenHarmony/],
  ['iPhone', /iPhone/],
  ['iPad', /iPad/],
  ['Android', /Android/],
  ['Windows', /Windows/],
  ['macOS', /Macintosh/],
  ['ChromeOS', /CrOS/],
  ['Linux', /Linux/],
];

/** "Browser version · system", either part left out when unknown; '' when nothing is recognised. */
export function describeDevice(userAgent: string): string {
  const agent = userAgent.slice(0, 512);
  const browser = BROWSERS.find(([, pattern]) => pattern.test(agent));
  const system = SYSTEMS.find(([, pattern]) => pattern.test(agent));
  const version = browser && agent.match(browser[1])?.[1];
  return [browser && `${browser[0]} ${version}`, system?.[0]].filter(Boolean).join(' · ');
}

export interface Place {
  /** The address with its host part hidden: `36.24.117.*`, `2408:8207:1850::/48`. */
  network: string;
  /** From the address table; `local` for private and loopback networks; null when unknown. */
  area: string | null;
}

const LOCAL = new BlockList();
for (const [address, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['100.64.0.0', 10],
] as const)
  LOCAL.addSubnet(address, bits, 'ipv4');
for (const [address, bits] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  LOCAL.addSubnet(address, bits, 'ipv6');

/** `areas`: CIDR networks with the area name each covers (the first match wins). */
export function createPlaces(areas: ReadonlyArray<{ network: string; area: string }>) {
  const table = areas.map(({ network, area }) => {
    const [address = '', bits = ''] = network.split('/');
    const list = new BlockList();
    list.addSubnet(address, Number(bits), isIPv4(address) ? 'ipv4' : 'ipv6');
    return { list, area };
  });
  return (ip: string): Place => {
    const address = plainAddress(ip);
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    const known = (list: BlockList) => {
      try {
        return list.check(address, family);
      } catch {
        return false; // not an address at all
      }
    };
    const area = known(LOCAL) ? 'local' : (table.find(({ list }) => known(list))?.area ?? null);
    return { network: maskAddress(address), area };
  };
}

export type Places = ReturnType<typeof createPlaces>;

function maskAddress(address: string): string {
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.*`;
  if (address === '::1') return address; // this machine: nothing to hide
  return /^[\da-f:]+$/.test(address) ? `${ipv6Groups(address).slice(0, 3).join(':')}::/48` : '?';
}
