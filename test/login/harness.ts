/**
 * `pushgate serve` (SSH gateway + HTTP certificate service) on loopback ports
 * chosen at run time, trusting the test IdP; agents that log in with
 * `pushgate login` and push with git through `pushgate ssh`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, type TestServer } from '../helpers/git-server.js';
import { killGroup, pushgateBin, requireTool, run, runAsync, startAsync, tempDir, type Ran, type Started } from '../helpers/tools.js';
import type { TestIdp } from '../identity/idp.js';
import { pathWithThisPushgate } from '../helpers/user-shell.js';
import { issuerYaml, type AuditLine } from '../issuance/harness.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How long `serve` may take to exit after SIGTERM: the drain timeout set in startServe, and a margin. */
const STOP_LIMIT_MS = 20_000;

export class Serve {
  sshPort = 0;
  httpUrl = '';
  #stderr = '';

  constructor(
    readonly server: TestServer,
    readonly child: ChildProcess,
  ) {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr += text;
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const match = /pushgate: listening ssh=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(this.#stderr);
      if (match) {
        this.sshPort = Number(match[1]);
        this.httpUrl = `http://127.0.0.1:${match[2]}`;
        return;
      }
      if (this.child.exitCode !== null) break;
      await sleep(20);
    }
    throw new Error(`pushgate serve did not start:\n${this.#stderr}`);
  }

  repoUrl(name: string): string {
    return `ssh://git@127.0.0.1:${this.sshPort}/${name}.git`;
  }

  knownHostsLine(): string {
    const [type, blob] = readFileSync(join(this.server.dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${this.sshPort} ${type} ${blob}\n`;
  }

  audit(): AuditLine[] {
    const file = join(this.server.dir, 'state', 'audit', 'audit.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as AuditLine);
  }

  /** SIGTERM, as an administrator stops it; it must exit within the drain timeout the tests configure. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const late = setTimeout(() => this.child.kill('SIGKILL'), STOP_LIMIT_MS);
    await exited;
    clearTimeout(late);
    if (this.child.signalCode === 'SIGKILL') throw new Error(`pushgate serve did not exit within ${STOP_LIMIT_MS / 1000} s of SIGTERM:\n${this.#stderr.slice(-4000)}`);
  }
}

export async function startServe(t: Teardown, idp: TestIdp, options: { configure?: (server: TestServer) => void; repos?: string[] } = {}): Promise<Serve> {
  requireTool('ssh', 'openssh-client');
  requireTool('git', 'git');
  const server = testServer(t);
  server.setConfig(['ssh', 'listen'], '127.0.0.1:0');
  server.setConfig(['http', 'listen'], '127.0.0.1:0');
  server.setConfig(['ssh', 'limits', 'drainTimeout'], '10s');
  server.setConfig(['identity', 'issuers'], [issuerYaml(idp)]);
  options.configure?.(server);
  for (const repo of options.repos ?? []) server.createRepo(repo);
  const child = spawn(process.execPath, [pushgateBin, 'serve', '--config', server.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const serve = new Serve(server, child);
  t.teardown(() => serve.stop());
  await serve.ready();
  return serve;
}

/** An agent with its own pushgate state directory, its own known_hosts, and git configured to use `pushgate ssh`. */
export class Agent {
  readonly home: string;
  readonly stateDir: string;
  readonly knownHosts: string;
  /** Let git probe `pushgate ssh -G` as it does for a user's core.sshCommand. */
  probe = false;
  /** The agent's PATH: pushgate installed on it. */
  readonly path: string;

  constructor(t: Teardown, readonly serve: Serve, readonly name: string) {
    this.home = tempDir(t, `pushgate-agent-${name}-`);
    this.stateDir = join(this.home, 'pushgate');
    this.knownHosts = join(this.home, 'known_hosts');
    writeFileSync(this.knownHosts, serve.knownHostsLine());
    this.path = pathWithThisPushgate(t);
  }

  /** A file holding a secret, written at run time. */
  secretFile(name: string, value: string): string {
    const path = join(this.home, name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  }

  /**
   * git's environment. Git asks an ssh command it does not know by name
   * whether it is OpenSSH (`-G`); GIT_SSH_VARIANT=ssh answers up front and
   * saves a process per git command, except where the probe is under test.
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...(this.probe ? {} : { GIT_SSH_VARIANT: 'ssh' }),
      ...process.env,
      PATH: this.path,
      HOME: this.home,
      PUSHGATE_HOME: this.stateDir,
      // The user's choice of host key checking: strict, against the pinned key.
      PUSHGATE_SSH_OPTIONS: `-F /dev/null -o UserKnownHostsFile=${this.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR`,
      GIT_SSH_COMMAND: `${process.execPath} ${pushgateBin} ssh`,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: this.name, GIT_AUTHOR_EMAIL: `${this.name}@example.test`,
      GIT_COMMITTER_NAME: this.name, GIT_COMMITTER_EMAIL: `${this.name}@example.test`,
      ...extra,
    };
  }

  /** Runs pushgate without blocking: the IdP answers from this very process. */
  pushgate(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Ran> {
    return runAsync(process.execPath, [pushgateBin, ...args], { env: this.env(extra) });
  }

  /** `pushgate login` with the IdP's agent client (client credentials, scope git:push), plus `extra` flags. */
  loginAsClient(idp: TestIdp, extra: string[] = []): Promise<Ran> {
    const secretFile = this.secretFile('client-secret', idp.clients.agent.secret);
    return this.pushgate([
      'login', '--server', this.serve.httpUrl, '--issuer', idp.issuer, '--client-id', idp.clients.agent.id,
      '--client-secret-file', secretFile, '--scope', 'git:push', ...extra,
    ]);
  }

  /** `pushgate login …` in the background, for the device flow; stopped when the test ends. */
  loginAsync(t: Teardown, args: string[]): Started {
    const login = startAsync(process.execPath, [pushgateBin, 'login', ...args], { env: this.env() });
    // A login whose user step failed would otherwise poll until its code expires.
    t.teardown(() => {
      if (login.child.exitCode === null && login.child.signalCode === null) killGroup(login.child);
    });
    return login;
  }

  git(args: string[], cwd?: string, extra: NodeJS.ProcessEnv = {}): Promise<Ran> {
    return runAsync('git', args, { env: this.env(extra), ...(cwd !== undefined ? { cwd } : {}) });
  }

  /**
   * Commits a file and pushes a branch; returns the push. The first call
   * clones through the gateway when `clone`, else starts a fresh local repository.
   */
  async cloneCommitPush(repo: string, branch: string, file = `${branch}.txt`, clone = false): Promise<{ push: Ran; work: string }> {
    const work = join(this.home, `work-${branch}`);
    if (!existsSync(work)) {
      if (clone) {
        const cloned = await this.git(['clone', '-q', this.serve.repoUrl(repo), work]);
        if (cloned.status !== 0) return { push: cloned, work };
      } else {
        run('git', ['init', '-q', work]);
        run('git', ['remote', 'add', 'origin', this.serve.repoUrl(repo)], { cwd: work });
      }
    }
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, file), `${branch} ${Date.now()}\n`);
    run('git', ['add', file], { cwd: work });
    run('git', ['commit', '-q', '-m', `${branch} from ${this.name}`], { cwd: work, env: this.env() });
    return { push: await this.git(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], work), work };
  }
}
