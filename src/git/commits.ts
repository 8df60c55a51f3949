import { GitError } from './errors.js';
import { isZeroOid } from './oid.js';
import { runGitOrThrow } from './run.js';

export interface NewCommitsOptions {
  /**
   * Refs whose history does not count as "already in the repository"
   * (`--exclude` patterns for `--all`). Parked pushes live under
   * refs/pushgate/, and a commit that is only parked has not been accepted,
   * so it is new again when pushed anywhere.
   */
  excludeRefs?: readonly string[];
  /**
   * Commits whose history counts as already there instead of every ref's
   * (listPush only): what a push of a range `A..B` onto a ref at `A` would
   * bring to a repository that has `A`, asked of a repository that may have
   * `B` already (`pushgate policy test`).
   */
  since?: readonly string[];
}

export const DEFAULT_EXCLUDED_REFS: readonly string[] = ['refs/pushgate/*'];

/**
 * The commits a push introduces: reachable from the pushed tips and from no
 * existing ref, parents before children (`rev-list --topo-order --reverse`).
 * All-zero tips (deletions) are skipped. Run it with the hook's environment
 * so the quarantined objects are visible.
 */
export async function newCommits(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): Promise<string[]> {
  return (await newCommitGraph(gitDir, tips, env, options)).commits;
}

export interface NewCommitGraph {
  /** As newCommits returns them: parents before children. */
  commits: string[];
  /** Those of `commits` with more than one parent. */
  merges: Set<string>;
  /** Commits already in the repository that are parents of new ones (`--boundary`): each is an ancestor of at least one of the tips. */
  boundary: Set<string>;
}

/** newCommits, and which of them are merges, from the same `git rev-list`. */
export async function newCommitGraph(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): Promise<NewCommitGraph> {
  const wanted = uniqueTips(tips);
  if (wanted.length === 0) return { commits: [], merges: new Set(), boundary: new Set() };
  const excluded = (options.excludeRefs ?? DEFAULT_EXCLUDED_REFS).map((pattern) => `--exclude=${pattern}`);
  // `rev-list --stdin` refuses "--not"/"--all" lines before git 2.42, and
  // revisions read from stdin ignore a preceding --not, so the tips go on
  // stdin and the exclusion on the command line.
  const args = ['rev-list', '--topo-order', '--reverse', '--parents', '--boundary', '--stdin', '--not', ...excluded, '--all'];
  const { stdout } = await runGitOrThrow(args, { gitDir, env, input: wanted.map((tip) => `${tip}\n`).join(''), maxBuffer: 1024 * 1024 * 1024 });
  const commits: string[] = [];
  const merges = new Set<string>();
  const boundary = new Set<string>();
  if (stdout === '') return { commits, merges, boundary };
  for (const line of stdout.trimEnd().split('\n')) {
    if (line.startsWith('-')) {
      const end = line.indexOf(' ');
      boundary.add(line.slice(1, end < 0 ? undefined : end));
      continue;
    }
    const space = line.indexOf(' ');
    const commit = space < 0 ? line : line.slice(0, space);
    commits.push(commit);
    if (space >= 0 && line.indexOf(' ', space + 1) >= 0) merges.add(commit);
  }
  return { commits, merges, boundary };
}

/** Non-zero tips, each once, checked to be something git reads as one revision. */
export function uniqueTips(tips: readonly string[]): string[] {
  const out = new Set<string>();
  for (const tip of tips) {
    if (isZeroOid(tip)) continue;
    if (tip === '' || tip.startsWith('-') || /[\s\0]/.test(tip)) throw new GitError('git.invalid-argument', `not a revision: ${JSON.stringify(tip)}`);
    out.add(tip);
  }
  return [...out];
}
