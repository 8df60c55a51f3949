import { describeCommand, GitError, lastLine } from './errors.js';
import { isFullOid } from './oid.js';

/** `diff-tree --stdin` only understands full object ids and echoes anything else, so nothing else is sent. */
export function checkCommitIds(commits: readonly string[]): void {
  for (const commit of commits) {
    if (!isFullOid(commit)) throw new GitError('git.invalid-argument', `not a full commit id: ${JSON.stringify(commit)}`);
  }
}

/**
 * `diff-tree --stdin` skips ids it cannot read and still exits 0; with
 * `--always` every readable commit prints its id, so a commit missing from
 * the output is one that was not scanned.
 */
export function checkAllDiffed(args: readonly string[], asked: readonly string[], seen: readonly string[], stderr: string): void {
  const seenSet = new Set(seen);
  const missing = seen.length === asked.length ? asked.find((commit, i) => seen[i] !== commit) : asked.find((commit) => !seenSet.has(commit));
  if (missing === undefined && seen.length === asked.length) return;
  const detail = lastLine(stderr);
  throw new GitError('git.failed', `${describeCommand(args)} did not read commit ${missing ?? '(unknown)'}; is it missing or not a commit?${detail === '' ? '' : ` git said: ${detail}`}`, { args, stderr });
}
