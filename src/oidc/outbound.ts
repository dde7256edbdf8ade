/**
 * Outgoing requests of the provider (back-channel logout, a client's jwks_uri) may reach only
 * public addresses and the networks the operator allows (OUTBOUND_ALLOWED_NETWORKS; departmental
 * sites often sit on the government intranet). Outside production, loopback is allowed too.
 * The check runs on the connected socket's address, so DNS rebinding cannot slip past it.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

const SPECIAL_USE = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

function blockListOf(cidrs: readonly (readonly [string, number])[]): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of cidrs)
    list.addSubnet(address, prefix, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

export function createOutboundPolicy(options: { allowedNetworks: string[]; allowLoopback: boolean }) {
  const denied = blockListOf(SPECIAL_USE);
  const allowed = blockListOf([
    ...options.allowedNetworks.map((cidr) => {
      const [address = '', prefix = ''] = cidr.split('/');
      return [address, Number(prefix)] as const;
    }),
    ...(options.allowLoopback
      ? ([
          ['127.0.0.0', 8],
          ['::1', 128],
        ] as const)
      : []),
  ]);
  return (address: string): boolean => {
    const v4mapped = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4;
    const ip = v4mapped ? address.slice(7) : address;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    return allowed.check(ip, family) || !denied.check(ip, family);
  };
}

export class OutboundDeniedError extends Error {}

/**
 * The address to connect to for `hostname`: the first allowed one it resolves to, checked before
 * any packet leaves (a refused host learns nothing, and its ports cannot be probed by timing).
 */
async function allowedAddress(hostname: string, isAllowed: (address: string) => boolean): Promise<string> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare) ? [bare] : (await lookup(bare, { all: true })).map((entry) => entry.address);
  const address = addresses.find(isAllowed);
  if (!address)
    throw new OutboundDeniedError(
      `outgoing request to ${hostname} is not allowed (OUTBOUND_ALLOWED_NETWORKS)`,
    );
  return address;
}

/** A `fetch` for oidc-provider's `fetch` option that enforces the policy. */
export function createOutboundFetch(isAllowed: (address: string) => boolean): typeof fetch {
  const connect = buildConnector({ timeout: 5000 });
  const dispatcher = new Agent({
    connect(options, callback) {
      const { hostname } = options;
      allowedAddress(hostname, isAllowed).then(
        (address) =>
          connectChecked(
            {
              ...options,
              hostname: address,
              servername: options.servername ?? (isIP(hostname) ? undefined : hostname),
            },
            callback,
          ),
        (error: Error) => callback(error, null),
      );
    },
  });
  // The connected socket's address is checked again: nothing may slip in between.
  function connectChecked(options: Parameters<typeof connect>[0], callback: Parameters<typeof connect>[1]) {
    connect(options, (error, socket) => {
      if (error || !socket) return callback(error, null);
      const address = socket.remoteAddress ?? '';
      if (isAllowed(address)) return callback(null, socket);
      socket.destroy();
      callback(
        new OutboundDeniedError(`outgoing request to ${address} is not allowed (OUTBOUND_ALLOWED_NETWORKS)`),
        null,
      );
    });
  }
  return ((url: string | URL, init: RequestInit & { dispatcher?: unknown } = {}) => {
    // The provider passes its own dispatcher; ours replaces it.
    const { dispatcher: _theirs, ...rest } = init;
    return undiciFetch(url, { ...(rest as object), dispatcher });
  }) as unknown as typeof fetch;
}
