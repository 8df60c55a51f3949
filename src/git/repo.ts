import type { ObjectType } from './cat-file.js';
import { GitError } from './errors.js';
import type { ObjectFormat } from './oid.js';
import { failure, runGit, runGitOrThrow } from './run.js';

function checkName(name: string, what: string): void {
  if (name === '' || name.startsWith('-') || /[\n\0]/.test(name)) throw new GitError('git.invalid-argument', `not ${what}: ${JSON.stringify(name)}`);
}

/** The object id `ref` (or any revision) points at, or null when it does not resolve. */
export async function resolveRef(gitDir: string, ref: string, env?: NodeJS.ProcessEnv): Promise<string | null> {
  checkName(ref, 'a ref');
  const args = ['rev-parse', '--verify', '--quiet', ref];
  const { stdout, stderr, code } = await runGit(args, { gitDir, env });
  if (code === 0) return stdout.trim();
  if (code === 1 && stderr.trim() === '') return null;
  throw failure(args, code, stderr);
}

/** Whether `ancestor` is reachable from `descendant` (an update from one to the other is a fast-forward). */
export async function isAncestor(gitDir: string, ancestor: string, descendant: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  checkName(ancestor, 'a revision');
  checkName(descendant, 'a revision');
  const args = ['merge-base', '--is-ancestor', ancestor, descendant];
  const { code, stderr } = await runGit(args, { gitDir, env });
  if (code === 0) return true;
  if (code === 1) return false;
  throw failure(args, code, stderr);
}

/** The type of the named object, or null when it does not exist. */
export async function objectType(gitDir: string, name: string, env?: NodeJS.ProcessEnv): Promise<ObjectType | null> {
  checkName(name, 'an object name');
  const { stdout } = await runGitOrThrow(['cat-file', '--batch-check=%(objecttype)'], { gitDir, env, input: `${name}\n` });
  const answer = stdout.trim();
  return answer === 'blob' || answer === 'tree' || answer === 'commit' || answer === 'tag' ? answer : null;
}

/** Whether `path` is itself a bare repository (not merely inside one). */
export async function isBareRepo(path: string): Promise<boolean> {
  try {
    const { stdout, code } = await runGit(['rev-parse', '--is-bare-repository'], { gitDir: path });
    return code === 0 && stdout.trim() === 'true';
  } catch {
    return false;
  }
}

/** The repository's hash: sha1 or sha256. */
export async function objectFormat(gitDir: string, env?: NodeJS.ProcessEnv): Promise<ObjectFormat> {
  const { stdout } = await runGitOrThrow(['rev-parse', '--show-object-format'], { gitDir, env });
  return stdout.trim() === 'sha256' ? 'sha256' : 'sha1';
}
