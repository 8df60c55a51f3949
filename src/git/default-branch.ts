import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runGit } from './run.js';

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The branch HEAD names and its commit, read exactly: HEAD's own file for
 * the name (a bare repository's HEAD is a file; anything but `ref: refs/heads/…`
 * — a detached id, another namespace — is no branch), then the branch's
 * value. Revision lookup (`HEAD`, `refs/heads/x` given to rev-parse or
 * cat-file) is not used: when the branch does not exist it falls through
 * to refs/tags/…, refs/heads/refs/heads/… and the like, which anyone who
 * may push can create. `accept` is asked before anything else is read.
 * Null when there is no such branch.
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
  const commit = await exactRef(gitDir, ref, env);
  return commit === null ? null : { ref, commit };
}

/**
 * One ref's value by its full name, nothing else. The files git 2.39 keeps
 * refs in are read directly (a loose file, else packed-refs), which costs
 * no git process on the hook's path; anything unexpected there (a symbolic
 * ref, another ref store) is left to `git show-ref --verify`, which is exact.
 */
export async function exactRef(gitDir: string, ref: string, env?: NodeJS.ProcessEnv): Promise<string | null> {
  if (!/^refs\/[^\0\n\r]+$/.test(ref) || ref.split('/').some((part) => part === '' || part === '.' || part === '..')) return null;
  const viaGit = async (): Promise<string | null> => {
    const { code, stdout } = await runGit(['show-ref', '--verify', '--hash', ref], { gitDir, env });
    const value = stdout.trim();
    return code === 0 && OID.test(value) ? value : null;
  };
  try {
    const loose = (await readFile(join(gitDir, ref), 'utf8')).trim();
    return OID.test(loose) ? loose : viaGit();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return viaGit();
  }
  let packed: string;
  try {
    packed = await readFile(join(gitDir, 'packed-refs'), 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : viaGit();
  }
  for (const line of packed.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0 && line.slice(space + 1) === ref) return OID.test(line.slice(0, space)) ? line.slice(0, space) : viaGit();
  }
  return null;
}
