import { run } from './tools.js';

/** What a test certificate carries; defaults: valid 10 minutes, role `agent`. */
export interface SignOptions {
  principals?: string[];
  roles?: string[];
  /** ssh-keygen -V. */
  validity?: string;
  serial?: number;
  keyId?: string;
  /** Extra `-O` options (`force-command=…`, `source-address=…`, `critical:x=y`). */
  options?: string[];
  /** CA private key. */
  ca?: string;
}

/** Signs `<key>.pub` with ssh-keygen (the independent oracle); roles go into the pushgate roles extension. */
export function signWithSshKeygen(key: string, defaults: { ca: string; principal: string; keyId: string }, options: SignOptions = {}): void {
  const principals = options.principals ?? [defaults.principal];
  const args = ['-q', '-s', options.ca ?? defaults.ca, '-I', options.keyId ?? defaults.keyId, '-n', principals.join(','), '-V', options.validity ?? '+10m'];
  if (options.serial !== undefined) args.push('-z', String(options.serial));
  const roles = options.roles ?? ['agent'];
  if (roles.length > 0) args.push('-O', `extension:roles@pushgate=${roles.join(',')}`);
  for (const option of options.options ?? []) args.push('-O', option);
  args.push(`${key}.pub`);
  run('ssh-keygen', args, { env: { ...process.env, TZ: 'UTC' } });
}

/** OpenSSH client options: no user config, this key and certificate only, the server's host key pinned. */
export function clientSshOptions(client: { key: string; cert: string; knownHosts: string }, port: number, extra: string[] = []): string[] {
  return [
    '-F', '/dev/null', '-o', 'IdentitiesOnly=yes', '-o', `IdentityFile=${client.key}`, '-o', `CertificateFile=${client.cert}`,
    '-o', `UserKnownHostsFile=${client.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR', '-p', String(port), ...extra,
  ];
}

/** A word quoted for `sh` only when it needs to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./=:@,+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
