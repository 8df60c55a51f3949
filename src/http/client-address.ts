/**
 * Who the client is behind trusted reverse proxies. The socket's peer is the
 * client unless it is one of `http.trustedProxies`; then the client is the
 * right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Hops
 * to the left of it were written by the client and are never believed.
 *
 * Fail-safe: a hop that is not an address (garbage, `unknown`, an obfuscated
 * identifier) stops the walk, and the last trusted hop reached (a proxy)
 * stands for the client — shared rate limits and a certificate bound to the
 * proxy are safe; a spoofed address is not. The RFC 7239 `Forwarded` header
 * is not read.
 */
import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../sshcert/index.js';

/** At most this many hops are read from the right; a longer chain ends at the last trusted one. */
export const MAX_FORWARDED_HOPS = 32;

export interface ClientAddress {
  /** The client, as the rate limit, `source-address` binding and audit records see it. */
  address: string;
  /** The socket's peer when it is a trusted proxy that forwarded the request. */
  via?: string;
}

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const kind = isIP(address);
  return kind === 4 ? 'ipv4' : kind === 6 ? 'ipv6' : undefined;
}

/** One X-Forwarded-For hop (`192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`) → its address. */
export function parseHop(hop: string): string | undefined {
  const text = hop.trim();
  let address = text;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) address = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(text)) address = text.slice(0, text.lastIndexOf(':'));
  // A zone index (`fe80::1%eth0`) names an interface of the proxy, not a client.
  if (address.includes('%')) return undefined;
  return family(address) === undefined ? undefined : normalizeAddress(address);
}

export class ClientAddressResolver {
  readonly #trusted = new BlockList();
  readonly #empty: boolean;

  /** `proxies`: addresses and CIDR blocks, as the config schema checked them. */
  constructor(proxies: readonly string[]) {
    this.#empty = proxies.length === 0;
    for (const entry of proxies) {
      const [address = '', prefix] = entry.split('/');
      const type = family(address);
      if (type === undefined) throw new Error(`trusted proxy ${JSON.stringify(entry)} is not an IP address or CIDR block`);
      if (prefix === undefined) this.#trusted.addAddress(address, type);
      else this.#trusted.addSubnet(address, Number(prefix), type);
    }
  }

  isTrusted(address: string): boolean {
    if (this.#empty) return false;
    const type = family(address);
    return type !== undefined && this.#trusted.check(address, type);
  }

  /**
   * `forwardedFor`: every X-Forwarded-For header line in order (node's
   * `headersDistinct`), each a comma-separated list, oldest hop first.
   */
  resolve(socketAddress: string, forwardedFor: readonly string[] | undefined): ClientAddress {
    const peer = normalizeAddress(socketAddress);
    if (!this.isTrusted(peer)) return { address: peer };
    const hops = (forwardedFor ?? []).join(',').split(',');
    let client = peer;
    for (let i = hops.length - 1, read = 0; i >= 0 && read < MAX_FORWARDED_HOPS; i--, read++) {
      if (hops[i]!.trim() === '' && hops.length === 1) break;
      const hop = parseHop(hops[i]!);
      if (hop === undefined) break;
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client === peer ? { address: peer } : { address: client, via: peer };
  }
}

/**
 * The key a client is rate-limited under: its address, or for IPv6 its /64,
 * which one host can usually draw addresses from at will.
 */
export function rateLimitKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] | undefined {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...Array.from({ length: missing }, () => '0'), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}
