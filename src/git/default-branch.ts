import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from './run.js';

/**
 * The branch HEAD names and its commit, read exactly: HEAD's own file for
 * the name (a bare repository's HEAD is a file; anything but `ref: refs/heads/…`
 * — a detached id, another namespace — is no branch), then
 * `git show-ref --verify` for the value. Revision lookup (`HEAD`,
 * `refs/heads/x` given to rev-parse or cat-file) is not used: when the
 * branch does not exist it falls through to refs/tags/…, refs/heads/refs/heads/…
 * and the like, which anyone who may push can create. `accept` is asked
 * before git is started, so an unwanted branch costs no process. Null when
 * there is no such branch.
 */
export async function defaultBranch(gitDir: string, accept: (ref: string) => boolean, env?: NodeJS.ProcessEnv): Promise<{ ref: string; commit: string } | null> {
  let head: string;
  try {
    head = await readFile(join(gitDir, 'HEAD'), 'utf8');
  } catch {
    return null;
  }
  const match = /^ref: (refs\/heads\/[^\s\0]+)\n?$/.exec(head);
  if (match === null || !accept(match[1]!)) return null;
  const ref = match[1]!;
  const { code, stdout } = await runGit(['show-ref', '--verify', '--hash', ref], { gitDir, env });
  const commit = stdout.trim();
  return code === 0 && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(commit) ? { ref, commit } : null;
}
