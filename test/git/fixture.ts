import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';

/** Git configured only by these variables: no user or system config leaks into the tests. */
export const gitTestEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, args: string[], input?: string | Buffer): string {
  return run('git', args, { cwd, env: gitTestEnv, ...(input === undefined ? {} : { input }) }).trim();
}

/** A new repository (with a work tree unless bare) on branch main. */
export function newRepo(t: { teardown(fn: () => void): void }, options: { bare?: boolean; objectFormat?: 'sha1' | 'sha256' } = {}): string {
  requireTool('git', 'git');
  const dir = join(tempDir(t, 'pushgate-git-'), options.bare === true ? 'repo.git' : 'repo');
  mkdirSync(dir);
  git(dir, ['init', '-q', '-b', 'main', `--object-format=${options.objectFormat ?? 'sha1'}`, ...(options.bare === true ? ['--bare'] : [])]);
  return dir;
}

/** Writes the files (null deletes one), stages everything and commits; returns the new commit id. */
export function commit(repo: string, files: Record<string, string | Buffer | null>, message = 'change'): string {
  for (const [name, content] of Object.entries(files)) {
    const path = join(repo, name);
    if (content === null) rmSync(path, { force: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/** The .git directory of a work-tree repository. */
export function gitDirOf(repo: string): string {
  return join(repo, '.git');
}
