import { isIP } from 'node:net';
import { normalizeAddress } from '../sshcert/index.js';

/** The client's address from `$SSH_CONNECTION` ("client_ip client_port server_ip server_port"); undefined when absent or malformed. */
export function clientAddressOf(sshConnection: string | undefined): string | undefined {
  const first = sshConnection?.trim().split(/\s+/)[0];
  if (first === undefined || first === '') return undefined;
  const address = normalizeAddress(first);
  return isIP(address) === 0 ? undefined : address;
}
