/**
 * The network settings: the proxies in front (TRUST_PROXY), the private networks outgoing
 * requests may reach (OUTBOUND_ALLOWED_NETWORKS) and the area each network is shown as
 * (IP_AREAS_FILE).
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { ConfigError } from './config-error.ts';

/** `false`/`0`: no proxy; `true`: one; `2`…`5`: that many, of which only the nearest entries are trusted. */
export function parseProxyHops(value: string, production: boolean): number {
  const hops =
    value === 'true' ? 1 : value === 'false' ? 0 : /^[0-5]$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(hops))
    throw new ConfigError(
      'TRUST_PROXY',
      `must be false, true or the number of proxies in front, 0–5 (got "${value}")`,
    );
  if (production && hops === 0) {
    throw new ConfigError(
      'TRUST_PROXY',
      'must be true (or the number of proxies) when NODE_ENV=production: Yitong serves plain HTTP behind a TLS-terminating proxy',
    );
  }
  return hops;
}

/** `10.0.0.0/8, 192.168.1.0/24` → validated CIDR strings. */
export function parseNetworks(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((cidr) =>
      checkCidr(cidr, 'OUTBOUND_ALLOWED_NETWORKS', 'must be a comma-separated list of CIDR networks'),
    );
}

function checkCidr(cidr: string, variable: string, rule: string): string {
  const [address = '', bits = ''] = cidr.split('/');
  const family = isIP(address);
  if (!family || !/^\d+$/.test(bits) || Number(bits) > (family === 6 ? 128 : 32))
    throw new ConfigError(variable, `${rule} (bad "${cidr}")`);
  new BlockList().addSubnet(address, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return cidr;
}

/** A UTF-8 CSV file of `network,area` lines (`36.24.0.0/13,浙江省杭州市`); `#` starts a comment. */
export function parseIpAreas(path: string): Array<{ network: string; area: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError('IP_AREAS_FILE', `must name a readable file (got "${path}")`);
  }
  return text.split(/\r?\n/).flatMap((line, index) => {
    const content = line.replace(/#.*/, '').trim();
    if (!content) return [];
    const [network = '', area = '', extra] = content.split(',').map((part) => part.trim());
    const rule = `line ${index + 1} must be "network/bits,area"`;
    if (!area || extra !== undefined || area.length > 60)
      throw new ConfigError('IP_AREAS_FILE', `${rule} (got "${content}")`);
    return [{ network: checkCidr(network, 'IP_AREAS_FILE', rule), area }];
  });
}
