/**
 * OpenSSH sshd on a loopback port chosen at run time, configured from the
 * snippet in docs/sshd.md (so the documentation cannot drift from what is
 * tested), with `pushgate shell` as the service user's ForceCommand.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { auditRecords, testServer, waitForAuditRecord, type TestServer } from '../helpers/git-server.js';
import { CertifiedSshClient, type Ran, type SignOptions } from '../helpers/ssh-client.js';
import { freePort, pushgateBin, requireTool, run } from '../helpers/tools.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface AuditLine {
  type: string;
  session?: string;
  identity?: { principal: string; roles?: string[]; keyId?: string; certSerial?: string; clientAddress?: string; keyFingerprint?: string };
  repository?: string;
  command?: string;
  result?: string;
  code?: string;
  reason?: string;
  [key: string]: unknown;
}

export const SSHD = '/usr/sbin/sshd';
export const DOC = new URL('../../../docs/sshd.md', import.meta.url).pathname;

/** The first ```sshd_config block of docs/sshd.md. */
export function documentedSnippet(): string {
  const text = readFileSync(DOC, 'utf8');
  const match = /^```sshd_config\n([\s\S]*?)^```$/m.exec(text);
  if (!match) throw new Error(`${DOC} has no \`\`\`sshd_config block`);
  return match[1]!;
}

export interface SnippetValues {
  user: string;
  pushgate: string;
  config: string;
  caPub: string;
}

/** The documented snippet with this test's paths and account; every placeholder must be there. */
export function renderSnippet(values: SnippetValues, snippet = documentedSnippet()): string {
  let text = snippet;
  const replace = (pattern: RegExp, value: string): void => {
    if (!pattern.test(text)) throw new Error(`docs/sshd.md no longer matches ${pattern}`);
    text = text.replace(pattern, value);
  };
  replace(/\/usr\/local\/bin\/pushgate/g, values.pushgate);
  replace(/\/etc\/pushgate\/pushgate\.yaml/g, values.config);
  replace(/\/etc\/pushgate\/ca\.pub/g, values.caPub);
  replace(/^(\s*Match User )git$/m, `$1${values.user}`);
  replace(/^(\s*AuthorizedPrincipalsCommandUser )git$/m, `$1${values.user}`);
  return text;
}

/** sshd runs AuthorizedPrincipalsCommand only from a path owned by root and writable by no one else, all the way up. */
function isSafeDirectory(dir: string): boolean {
  for (let current = dir; ; current = dirname(current)) {
    const s = statSync(current);
    if (s.uid !== 0 || (s.mode & 0o022) !== 0) return false;
    if (current === '/') return true;
  }
}

function safeTempDir(t: Teardown): string {
  const candidates = ['/run', dirname(new URL(import.meta.url).pathname)];
  const base = candidates.find((dir) => existsSync(dir) && isSafeDirectory(dir));
  if (base === undefined) throw new Error(`no root-owned directory that only root can write for the AuthorizedPrincipalsCommand (tried ${candidates.join(', ')})`);
  const dir = mkdtempSync(join(base, 'pushgate-sshd-test-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface StartOptions {
  repos?: string[];
  /** Edits pushgate's config. */
  configure?: (server: TestServer) => void;
  /** Lines added to sshd_config before the documented snippet (global settings). */
  extraConfig?: string[];
  /** Changes the rendered snippet: a deliberately misconfigured sshd. */
  transform?: (snippet: string) => string;
}

export class Sshd {
  port = 0;
  #stderr = '';
  child: ChildProcess | undefined;

  constructor(
    readonly server: TestServer,
    readonly user: string,
    readonly dir: string,
    readonly configFile: string,
  ) {}

  get stderr(): string {
    return this.#stderr;
  }

  get hostKeyPub(): string {
    return join(this.dir, 'ssh_host_ed25519_key.pub');
  }

  knownHostsLine(): string {
    const [type, blob] = readFileSync(this.hostKeyPub, 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${this.port} ${type} ${blob}\n`;
  }

  async start(): Promise<void> {
    const child = spawn(SSHD, ['-D', '-e', '-f', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr += text;
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.#stderr.includes(`Server listening on 127.0.0.1 port ${this.port}`)) return;
      if (child.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`sshd did not start:\n${this.#stderr}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  audit(): AuditLine[] {
    return auditRecords<AuditLine>(this.server.dir);
  }

  waitForAudit(predicate: (line: AuditLine) => boolean, timeoutMs = 60_000): Promise<AuditLine> {
    return waitForAuditRecord(this.server.dir, predicate, timeoutMs);
  }

  url(repo: string): string {
    return `ssh://${this.user}@127.0.0.1:${this.port}/${repo}`;
  }

  /** A bare repository without pushgate's hooks whose pre-receive hook dumps its environment. */
  createProbeRepo(name: string): { path: string; env(): Record<string, string> } {
    const path = join(this.server.reposRoot, `${name}.git`);
    run('git', ['init', '-q', '--bare', '--initial-branch=main', path]);
    writeFileSync(join(path, 'hooks', 'pre-receive'), '#!/bin/sh\ncat >/dev/null\nenv -0 > "$(pwd)/env.dump"\n', { mode: 0o755 });
    return {
      path,
      env(): Record<string, string> {
        const text = readFileSync(join(path, 'env.dump'), 'utf8');
        return Object.fromEntries(text.split('\0').filter((e) => e !== '').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      },
    };
  }
}

/** Initialises a pushgate server directory and starts sshd for it, configured from docs/sshd.md. */
export async function startSshd(t: Teardown, options: StartOptions = {}): Promise<Sshd> {
  requireTool(SSHD, 'openssh-server');
  requireTool('ssh', 'openssh-client');
  requireTool('ssh-keygen', 'openssh-client');
  // sshd's privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = userInfo().username;
  const server = testServer(t);
  server.setConfig(['serviceUser'], user);
  for (const repo of options.repos ?? []) server.createRepo(repo);
  options.configure?.(server);

  const bin = safeTempDir(t);
  const pushgate = join(bin, 'pushgate');
  writeFileSync(pushgate, `#!/bin/sh\nexec '${process.execPath}' '${pushgateBin}' "$@"\n`, { mode: 0o755 });
  const dir = join(server.dir, 'sshd');
  mkdirSync(dir);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sshd-test-host', '-f', join(dir, 'ssh_host_ed25519_key')]);
  const port = await freePort();
  const sftp = ['/usr/lib/openssh/sftp-server', '/usr/libexec/sftp-server', '/usr/lib/ssh/sftp-server'].find((p) => existsSync(p));
  const header = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'AuthorizedKeysFile none',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'LogLevel VERBOSE',
    ...(sftp !== undefined ? [`Subsystem sftp ${sftp}`] : []),
    ...(options.extraConfig ?? []),
  ];
  const configFile = join(dir, 'sshd_config');
  const rendered = renderSnippet({ user, pushgate, config: server.configPath, caPub: join(server.dir, 'ca.pub') });
  const snippet = options.transform?.(rendered) ?? rendered;
  writeFileSync(configFile, `${header.join('\n')}\n\n${snippet}`);
  const checked = spawnSync(SSHD, ['-t', '-f', configFile], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`sshd -t refused the config:\n${checked.stderr}`);
  const sshd = new Sshd(server, user, dir, configFile);
  sshd.port = port;
  t.teardown(() => sshd.stop());
  await sshd.start();
  return sshd;
}

export type { Ran, SignOptions };

/** An OpenSSH key pair and certificate, driving sshd with the real client and git. */
export class Client extends CertifiedSshClient {
  constructor(
    readonly sshd: Sshd,
    name: string,
  ) {
    super({ dir: sshd.server.dir, get port() { return sshd.port; }, knownHostsLine: () => sshd.knownHostsLine() }, name, sshd.user);
  }

  /**
   * Starts a multiplexing master connection (one authentication) and returns
   * the options that run further sessions over it.
   */
  async master(t: Teardown): Promise<string[]> {
    const path = join(this.sshd.server.dir, `cm-${this.name}`);
    const child = spawn('ssh', [...this.sshOptions(['-M', '-N', '-o', `ControlPath=${path}`]), `${this.login}@127.0.0.1`], { stdio: 'ignore' });
    t.teardown(() => {
      child.kill();
    });
    const deadline = Date.now() + 30_000;
    while (!existsSync(path)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('the ssh master connection did not come up');
      await sleep(25);
    }
    return ['-o', `ControlPath=${path}`, '-o', 'ControlMaster=no'];
  }
}
