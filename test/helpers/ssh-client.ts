import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ran, run, type Ran } from './tools.js';

export { ran, type Ran };

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

/** An SSH server under test: its directory (holding `ca`), its port once listening, its host key. */
export interface SshServerUnderTest {
  readonly dir: string;
  readonly port: number;
  knownHostsLine(): string;
}

/**
 * Someone with an OpenSSH key pair and (once signed) a certificate, logging
 * in as `login` with the real OpenSSH client and git: the same for pushgate's
 * gateway and for sshd in front of `pushgate shell`.
 */
export class CertifiedSshClient {
  readonly key: string;
  readonly cert: string;
  readonly knownHosts: string;

  constructor(
    readonly server: SshServerUnderTest,
    readonly name: string,
    readonly login: string,
    keygen: readonly string[] = ['-t', 'ed25519'],
  ) {
    this.key = join(server.dir, `user-${name}`);
    if (!existsSync(this.key)) run('ssh-keygen', ['-q', ...keygen, '-N', '', '-C', name, '-f', this.key]);
    this.cert = `${this.key}-cert.pub`;
    this.knownHosts = join(server.dir, `known_hosts-${name}`);
    writeFileSync(this.knownHosts, server.knownHostsLine());
  }

  /** Signs the key with ssh-keygen; roles go into the pushgate roles extension. */
  sign(options: SignOptions = {}): this {
    signWithSshKeygen(this.key, { ca: join(this.server.dir, 'ca'), principal: this.name, keyId: `${this.name}-key` }, options);
    return this;
  }

  sshOptions(extra: string[] = []): string[] {
    return clientSshOptions(this, this.server.port, extra);
  }

  sshCommand(extra: string[] = []): string {
    return ['ssh', ...this.sshOptions(extra)].map(shellWord).join(' ');
  }

  /** `ssh … USER@127.0.0.1 COMMAND…`; the command words are sent as they are. */
  ssh(command: string[], options: { input?: string; extra?: string[]; user?: string; timeout?: number } = {}): Ran {
    return ran(spawnSync('ssh', [...this.sshOptions(options.extra), `${options.user ?? this.login}@127.0.0.1`, ...command], {
      encoding: 'utf8', input: options.input ?? '', timeout: options.timeout ?? 30_000,
    }));
  }

  gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      GIT_SSH_COMMAND: this.sshCommand(),
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: this.name, GIT_AUTHOR_EMAIL: `${this.name}@example.test`,
      GIT_COMMITTER_NAME: this.name, GIT_COMMITTER_EMAIL: `${this.name}@example.test`,
      ...extra,
    };
  }

  git(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Ran {
    return ran(spawnSync('git', args, { encoding: 'utf8', cwd: options.cwd, env: this.gitEnv(options.env), input: options.input ?? '', timeout: 60_000 }));
  }
}
