import { BlockList, isIP } from 'node:net';
import { CertError } from './errors.js';

/** A parsed `source-address` list: comma-separated addresses and CIDR blocks. */
export interface SourceAddressList {
  readonly entries: readonly string[];
  matches(address: string): boolean;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`, so IPv4 clients on dual-stack sockets match IPv4 lists. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

export function parseSourceAddressList(list: string): SourceAddressList {
  const blocks = new BlockList();
  const entries = list.split(',');
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const max = family === 4 ? 32 : 128;
    const bad = (): never => {
      throw new CertError('cert.source-address', `source-address entry ${JSON.stringify(entry.slice(0, 80))} is not an address or CIDR block`);
    };
    if (family === 0 || extra !== undefined) bad();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      blocks.addAddress(address!, type);
    } else {
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) bad();
      blocks.addSubnet(address!, Number(prefix), type);
    }
  }
  return {
    entries,
    matches(clientAddress: string): boolean {
      const normalized = normalizeAddress(clientAddress);
      const family = isIP(normalized);
      if (family === 0) return false;
      return blocks.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
