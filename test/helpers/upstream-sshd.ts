/**
 * Upstream Git servers for upstream-mode tests, started on loopback:
 * a plain bare repository reached by `file://`, and OpenSSH `sshd` with
 * `git-shell` behind a deploy key (the way a small team's Git host runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, requireTool, run, tempDir } from './tools.js';
import type { UpstreamFixture } from './upstream-scenarios.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

const SEED_ENV = { GIT_AUTHOR_NAME: 'Upstream', GIT_AUTHOR_EMAIL: 'upstream@example.test', GIT_COMMITTER_NAME: 'Upstream', GIT_COMMITTER_EMAIL: 'upstream@example.test' };

/** A directory of bare repositories playing the upstream's storage. */
export class UpstreamRepos {
  constructor(readonly root: string) {}

  path(name: string): string {
    return join(this.root, `${name}.git`);
  }

  /** A bare repository with one commit on main (and HEAD on main). */
  create(name: string, files: Record<string, string> = { 'README.md': `# ${name}\n` }): string {
    const path = this.path(name);
    mkdirSync(path, { recursive: true });
    run('git', ['init', '-q', '--bare', '--initial-branch=main', path]);
    this.commit(name, 'initial', files);
    return path;
  }

  /** A commit on `branch` made directly upstream (not through pushgate); returns its id. */
  commit(name: string, message: string, files: Record<string, string> = { [`${message.replace(/\W+/g, '-')}.txt`]: `${message}\n` }, branch = 'main'): string {
    const gitDir = this.path(name);
    let parent = '';
    try {
      parent = run('git', ['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).trim();
    } catch {
      // a new branch
    }
    const index = join(gitDir, `index-${process.pid}`);
    const env = { ...process.env, ...SEED_ENV, GIT_DIR: gitDir, GIT_INDEX_FILE: index };
    if (parent !== '') run('git', ['read-tree', parent], { env });
    else run('git', ['read-tree', '--empty'], { env });
    for (const [file, content] of Object.entries(files)) {
      const blob = run('git', ['hash-object', '-w', '--stdin'], { env, input: content }).trim();
      run('git', ['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], { env });
    }
    const tree = run('git', ['write-tree'], { env }).trim();
    const commit = run('git', ['commit-tree', tree, ...(parent !== '' ? ['-p', parent] : []), '-m', message], { env }).trim();
    run('git', ['update-ref', `refs/heads/${branch}`, commit], { env });
    run('rm', ['-f', index]);
    return commit;
  }

  /** Every ref and its value (`git for-each-ref`). */
  refs(name: string): Record<string, string> {
    const text = run('git', ['--git-dir', this.path(name), 'for-each-ref', '--format=%(refname) %(objectname)']);
    return Object.fromEntries(text.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
  }

  /** Installs a pre-receive hook in the upstream repository that prints `message` and refuses. */
  refuseWith(name: string, message: string): void {
    writeFileSync(join(this.path(name), 'hooks', 'pre-receive'), `#!/bin/sh\ncat >/dev/null\necho ${JSON.stringify(message)} >&2\nexit 1\n`, { mode: 0o755 });
  }

  acceptAll(name: string): void {
    run('rm', ['-f', join(this.path(name), 'hooks', 'pre-receive')]);
  }
}

/** A `file://` upstream over `repos`; stop() moves the whole directory aside. */
export function fileFixture(repos: UpstreamRepos): UpstreamFixture {
  let down = false;
  return {
    name: 'file',
    config: { url: `file://${repos.root}/{repo}.git` },
    create: (repo) => void repos.create(repo),
    refs: (repo) => repos.refs(repo),
    directPush: (repo, message) => repos.commit(repo, message),
    setRefusingHook: (repo, text) => (text === null ? repos.acceptAll(repo) : repos.refuseWith(repo, text)),
    async stop() {
      if (!down) renameSync(repos.root, `${repos.root}.down`);
      down = true;
    },
    async start() {
      if (down) renameSync(`${repos.root}.down`, repos.root);
      down = false;
    },
  };
}

/** The sshd + git-shell upstream as a fixture: the deploy key and pinned host key in its config. */
export function sshFixture(upstream: SshUpstream): UpstreamFixture {
  return {
    name: 'ssh',
    config: { url: upstream.urlTemplate, sshKeyFile: upstream.deployKey, knownHostsFile: upstream.knownHosts },
    create: (repo) => void upstream.repos.create(repo),
    refs: (repo) => upstream.repos.refs(repo),
    directPush: (repo, message) => upstream.repos.commit(repo, message),
    setRefusingHook: (repo, text) => (text === null ? upstream.repos.acceptAll(repo) : upstream.repos.refuseWith(repo, text)),
    stop: () => upstream.stop(),
    start: () => upstream.start(),
  };
}

export function upstreamRepos(t: Teardown): UpstreamRepos {
  requireTool('git', 'git');
  return new UpstreamRepos(tempDir(t, 'pushgate-upstream-'));
}

/** A throw-away OpenSSH server running `git-shell` for one deploy key. */
export interface SshUpstream {
  repos: UpstreamRepos;
  port: number;
  /** The deploy key's private half (mode 600) and its known_hosts file, as pushgate's config names them. */
  deployKey: string;
  knownHosts: string;
  /** `ssh://USER@127.0.0.1:PORT/ROOT/{repo}.git` */
  urlTemplate: string;
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startSshUpstream(t: Teardown): Promise<SshUpstream> {
  const sshd = requireTool('/usr/sbin/sshd', 'openssh-server');
  requireTool('git-shell', 'git');
  requireTool('ssh-keyscan', 'openssh-client');
  const dir = tempDir(t, 'pushgate-sshd-');
  const repos = upstreamRepos(t);
  const hostKey = join(dir, 'host_ed25519');
  const deployKey = join(dir, 'deploy_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pushgate-deploy', '-f', deployKey]);
  chmodSync(deployKey, 0o600);
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, `restrict ${readFileSync(`${deployKey}.pub`, 'utf8')}`);
  const port = await freePort();
  const logFile = join(dir, 'sshd.log');
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authorized}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', `PidFile ${join(dir, 'sshd.pid')}`,
    'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"', 'AcceptEnv none', 'PermitUserEnvironment no', 'LogLevel VERBOSE', '',
  ].join('\n'));
  mkdirSync('/run/sshd', { recursive: true });
  let child: ChildProcess | undefined;
  const user = run('id', ['-un']).trim();
  const upstream: SshUpstream = {
    repos, port, deployKey, knownHosts: join(dir, 'known_hosts'),
    urlTemplate: `ssh://${user}@127.0.0.1:${port}${repos.root}/{repo}.git`,
    log: () => readFileSync(logFile, 'utf8'),
    async start() {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      child = spawn(sshd, ['-D', '-f', config, '-E', logFile], { stdio: 'ignore' });
      const deadline = Date.now() + 30_000;
      for (;;) {
        let scan = '';
        try {
          scan = run('ssh-keyscan', ['-t', 'ed25519', '-p', String(port), '127.0.0.1'], { timeoutMs: 5000 }).trim();
        } catch {
          // not listening yet
        }
        if (scan !== '') {
          writeFileSync(upstream.knownHosts, `${scan}\n`);
          return;
        }
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sshd did not start:\n${readFileSync(logFile, 'utf8')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  t.teardown(() => upstream.stop());
  await upstream.start();
  return upstream;
}
