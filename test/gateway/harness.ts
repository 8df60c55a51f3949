/**
 * A `pushgate serve` child process on a loopback port chosen at run time, and
 * users with OpenSSH keys and certificates that drive it with the real
 * OpenSSH client and git.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditRecords, testServer, waitForAuditRecord, type TestServer } from '../helpers/git-server.js';
import { CertifiedSshClient, type Ran, type SignOptions } from '../helpers/ssh-client.js';
import { pushgateBin, requireTool, run, runAsync } from '../helpers/tools.js';
import { KEY_KINDS, type KeyKind } from '../sshcert/fixtures.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface AuditLine {
  type: string;
  session?: string;
  identity?: { principal: string; roles?: string[]; keyId?: string; certSerial?: string; clientAddress?: string };
  repository?: string;
  command?: string;
  result?: string;
  code?: string;
  reason?: string;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  [key: string]: unknown;
}

export class Gateway {
  port = 0;
  /** `http://127.0.0.1:PORT`: the HTTP service (health, metrics), on a port of its own. */
  httpUrl = '';
  #stderr = '';
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly server: TestServer,
    readonly child: ChildProcess,
  ) {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.#stderr += text;
    });
    this.#exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get dir(): string {
    return this.server.dir;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const match = /pushgate: listening ssh=127\.0\.0\.1:(\d+)(?: http=127\.0\.0\.1:(\d+))?/.exec(this.#stderr);
      if (match) {
        this.port = Number(match[1]);
        if (match[2] !== undefined) this.httpUrl = `http://127.0.0.1:${match[2]}`;
        return;
      }
      if (this.child.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`pushgate serve did not start:\n${this.#stderr}`);
  }

  /** `[127.0.0.1]:PORT <host key>`: the server's key pinned for the client. */
  knownHostsLine(): string {
    const [type, blob] = readFileSync(join(this.dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${this.port} ${type} ${blob}\n`;
  }

  /**
   * A bare repository (no pushgate hooks) whose pre-receive hook writes its
   * whole environment to `<repo>/env.dump`, NUL-separated: what git and its
   * hooks receive from the gateway.
   */
  createProbeRepo(name: string): { path: string; env(): Record<string, string> } {
    const path = join(this.server.reposRoot, `${name}.git`);
    run('git', ['init', '-q', '--bare', '--initial-branch=main', path]);
    const hook = join(path, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\ncat >/dev/null\nenv -0 > "$(pwd)/env.dump"\n`, { mode: 0o755 });
    return {
      path,
      env(): Record<string, string> {
        const text = readFileSync(join(path, 'env.dump'), 'utf8');
        return Object.fromEntries(text.split('\0').filter((e) => e !== '').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      },
    };
  }

  /** Gives a repository one commit on main without going through any hook. */
  seed(repo: string, message = 'seed'): string {
    const gitDir = join(this.server.reposRoot, `${repo}.git`);
    const tree = run('git', ['--git-dir', gitDir, 'mktree'], { input: '' }).trim();
    const env = { ...process.env, GIT_AUTHOR_NAME: 'Seed', GIT_AUTHOR_EMAIL: 'seed@example.test', GIT_COMMITTER_NAME: 'Seed', GIT_COMMITTER_EMAIL: 'seed@example.test' };
    const commit = run('git', ['--git-dir', gitDir, 'commit-tree', tree, '-m', message], { env }).trim();
    run('git', ['--git-dir', gitDir, 'update-ref', 'refs/heads/main', commit]);
    return commit;
  }

  url(repo: string): string {
    return `ssh://git@127.0.0.1/${repo}`;
  }

  audit(): AuditLine[] {
    return auditRecords<AuditLine>(this.dir);
  }

  /** Waits until an audit record satisfies `predicate` (records are written as events happen). */
  waitForAudit(predicate: (line: AuditLine) => boolean, timeoutMs = 60_000): Promise<AuditLine> {
    return waitForAuditRecord(this.dir, predicate, timeoutMs);
  }

  /** Waits until at least `count` audit records satisfy `predicate`. */
  async waitForCount(predicate: (line: AuditLine) => boolean, count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.audit().filter(predicate).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} matching audit records in time`);
      await sleep(25);
    }
  }

  /** Resident set size of the server process, in kB. */
  rssKb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  }

  /** SIGHUP, then waits for the config.reload record it causes. */
  async reload(): Promise<AuditLine> {
    const before = this.audit().filter((l) => l.type === 'config.reload').length;
    this.child.kill('SIGHUP');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const reloads = this.audit().filter((l) => l.type === 'config.reload');
      if (reloads.length > before) return reloads.at(-1)!;
      if (Date.now() > deadline) throw new Error(`no reload recorded:\n${this.#stderr}`);
      await sleep(25);
    }
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.#exit;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface StartOptions {
  /** Edits the config before the server starts. */
  configure?: (server: TestServer) => void;
  /** Repositories to create (bare, with hooks). */
  repos?: string[];
  /** Added to the server's own environment. */
  env?: NodeJS.ProcessEnv;
}

/** Initialises a server directory and starts `pushgate serve` on 127.0.0.1, SSH and HTTP on ports chosen at run time. */
export async function startGateway(t: Teardown, options: StartOptions = {}): Promise<Gateway> {
  requireTool('ssh', 'openssh-client');
  requireTool('ssh-keygen', 'openssh-client');
  const server = testServer(t);
  server.setConfig(['ssh', 'listen'], '127.0.0.1:0');
  server.setConfig(['http', 'listen'], '127.0.0.1:0');
  for (const repo of options.repos ?? []) server.createRepo(repo);
  options.configure?.(server);
  const child = spawn(process.execPath, [pushgateBin, 'serve', '--config', server.configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const gateway = new Gateway(server, child);
  t.teardown(async () => {
    await gateway.stop();
  });
  await gateway.ready();
  return gateway;
}

export type { Ran, SignOptions };

/** Someone with an OpenSSH key pair and (once signed) a certificate, logging in to the gateway. */
export class SshUser extends CertifiedSshClient {
  constructor(
    readonly gateway: Gateway,
    name: string,
    readonly kind: KeyKind = KEY_KINDS[0]!,
  ) {
    super(gateway, name, 'git', kind.keygen);
  }

  /** The same, without waiting: for concurrency. */
  gitAsync(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
    return runAsync('git', args, { env: this.gitEnv(options.env), ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  }
}

