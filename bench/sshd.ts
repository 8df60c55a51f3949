import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sh } from './fixtures.js';

export const SSHD = '/usr/sbin/sshd';

/** A loopback server the bench talks to: its port, its host key for known_hosts, and how to stop it. */
export interface BenchServer {
  port: number;
  /** `TYPE BASE64` of the host key. */
  hostKey: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Waits until `pattern` shows up on the child's stderr; returns its match. */
export function waitForStderr(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in time:\n${text}`)), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`${what} exited:\n${text}`));
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return exited;
}

/**
 * OpenSSH sshd with its own throw-away config: certificate logins from
 * `caPub` for the Unix user running the bench, commands run as they are
 * (git-upload-pack / git-receive-pack with an absolute path), no pushgate.
 */
export async function startBenchSshd(dir: string, caPub: string): Promise<BenchServer> {
  if (!existsSync(SSHD)) throw new Error(`the bench needs ${SSHD}: install it with \`apt-get install -y openssh-server\``);
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-sshd', '-f', hostKey]);
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'AuthorizedKeysFile none',
    `TrustedUserCAKeys ${caPub}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AcceptEnv GIT_PROTOCOL',
    'PermitTTY no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    '',
  ].join('\n'));
  const checked = spawnSync(SSHD, ['-t', '-f', config], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`sshd -t: ${checked.stderr}`);
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForStderr(child, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}`), 'sshd');
  return {
    port,
    hostKey: readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    stop: () => stopChild(child),
  };
}
