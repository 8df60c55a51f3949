/**
 * What the real upstream servers the tests start (gitolite over SSH, git
 * http-backend behind nginx) have in common: where a repository is, how
 * someone other than pushgate pushes to it directly, what its refs are on the
 * server's disk, and an upstream-side refusal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WorkTree, type Pushed } from './git-server.js';
import { BLOCKING_LIMIT, run, tempDir } from './tools.js';
import type { Teardown } from './daemon.js';
import type { UpstreamFixture } from './upstream-scenarios.js';
import type { UpstreamRepos } from './upstream-sshd.js';

export interface UpstreamServer {
  /** The `url` template for pushgate's `upstreams[]` entry: `{repo}` is the repository name without `.git`. */
  readonly urlTemplate: string;
  url(repo: string): string;
  /** The repositories on the server's disk: refs, commits made there, behind the server's back. */
  readonly repos: UpstreamRepos;
  /** Creates empty repositories (branch `main`) that pushgate's credential and the direct pusher may write. */
  createRepos(...names: string[]): void;
  /** From now on every push to `repo` is refused by the upstream with `text` (one line); `undefined` lifts it. */
  setRefusingHook(repo: string, text: string | undefined): void;
  /** A clone made with a credential of its own (not pushgate's): someone pushing directly upstream. */
  directClone(t: Teardown, repo: string): DirectClone;
  /** Stops answering (connections are refused); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A work tree whose git runs with `env` added (the transport's credential and CA). */
export class DirectClone extends WorkTree {
  constructor(
    path: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    super(path);
  }

  static cloneWith(t: Teardown, remote: string, env: NodeJS.ProcessEnv): DirectClone {
    const path = join(tempDir(t, 'pushgate-direct-'), 'work');
    const cloned = spawnSync('git', ['clone', '--quiet', remote, path], { encoding: 'utf8', env: { ...process.env, ...env }, ...BLOCKING_LIMIT });
    if (cloned.status !== 0) throw new Error(`git clone ${remote} failed: ${cloned.stderr}${String(cloned.error ?? '')}`);
    const tree = new DirectClone(path, env);
    tree.git('config', 'user.name', 'Direct Developer');
    tree.git('config', 'user.email', 'developer@example.test');
    tree.git('checkout', '--quiet', '-B', 'main');
    return tree;
  }

  override git(...args: string[]): string {
    return run('git', args, { cwd: this.path, env: { ...process.env, ...this.env } });
  }

  override push(args: string[], env: NodeJS.ProcessEnv = {}): Pushed {
    return super.push(args, { ...this.env, ...env });
  }
}

/**
 * `server` as the upstream-mode scenarios see it (test/helpers/upstream-scenarios.ts).
 * A commit "made directly upstream" is a real push through the server with
 * the direct pusher's own credential, so it passes the server's own access
 * rules and hooks like any developer's.
 */
export function serverFixture(t: Teardown, name: string, server: UpstreamServer, credentials: Record<string, string>): UpstreamFixture {
  return {
    name,
    config: { url: server.urlTemplate, ...credentials },
    create(repo: string): void {
      // Repositories made beforehand in one go (gitolite: one admin push) are only seeded here.
      if (!existsSync(server.repos.path(repo))) server.createRepos(repo);
      server.repos.commit(repo, 'initial', { 'README.md': `# ${repo}\n` });
    },
    refs: (repo) => server.repos.refs(repo),
    directPush(repo: string, message: string): string {
      const clone = server.directClone(t, repo);
      const id = clone.commit(message, { [`${message.replace(/\W+/g, '-')}.txt`]: `${message}\n` });
      const pushed = clone.push(['origin', 'main']);
      if (pushed.code !== 0) throw new Error(`the direct push to ${repo} failed:\n${pushed.output}`);
      return id;
    },
    setRefusingHook: (repo, text) => server.setRefusingHook(repo, text ?? undefined),
    stop: () => server.stop(),
    start: () => server.start(),
  };
}
