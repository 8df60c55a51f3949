import { checkAllDiffed, checkCommitIds } from './commit-ids.js';
import { DiffParser, type DiffEvent, type LineFilter } from './diff-parser.js';
import { failure, spawnGit } from './run.js';

export interface DiffStreamOptions {
  /** Detect renames (-M): a renamed file then reports only its changed lines. Off by default, so a moved file is read in full. */
  renames?: boolean;
  /** Keeps only the added lines worth a LineEvent (see LineFilter). */
  lineFilter?: LineFilter;
  /** Updated as git's output is read: bytes of all added lines, filtered or not. */
  progress?: { addedBytes: number };
}

/** Arguments that make the patch output independent of the repository's and the user's diff configuration. */
export function diffArgs(options: DiffStreamOptions = {}): string[] {
  return [
    '-c', 'core.quotePath=false',
    '-c', 'diff.suppressBlankEmpty=false',
    'diff-tree', '--stdin', '--always', '-r', '-p', '--cc', '-U0', '--root',
    '--no-color', '--no-ext-diff', '--no-textconv', '--full-index', '--submodule=short',
    '--src-prefix=a/', '--dst-prefix=b/', '--no-relative',
    options.renames === true ? '-M' : '--no-renames',
  ];
}

/**
 * What each commit changes, streamed from one `git diff-tree --stdin -p --cc`
 * process: for every file a FileEvent, then a LineEvent per added line.
 * Every commit is diffed against its own parents (a line added and removed
 * within the push is seen); merges are combined diffs, so only lines new
 * relative to all parents count. Events come in batches, one per chunk of
 * git's output; git is paused while a batch is being handled, and stopped if
 * the loop ends early.
 */
export async function* diffEvents(gitDir: string, commits: readonly string[], env?: NodeJS.ProcessEnv, options: DiffStreamOptions = {}): AsyncGenerator<DiffEvent[], void, undefined> {
  checkCommitIds(commits);
  if (commits.length === 0) return;
  const args = diffArgs(options);
  const proc = spawnGit(args, { gitDir, env, stdin: true });
  // Newest first: packs store recent versions whole and older ones as deltas
  // against them, so this order reads the objects at the cost of `git log -p`;
  // parents first measured about 40% slower.
  const order = [...commits].reverse();
  proc.child.stdin!.end(order.join('\n') + '\n');
  const parser = new DiffParser(options.lineFilter);
  let done = false;
  try {
    for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
      const events = parser.push(chunk);
      if (options.progress) options.progress.addedBytes = parser.addedBytes;
      // With a filter most chunks yield nothing; they are still handed over so the caller can check its budgets.
      if (events.length > 0 || options.lineFilter !== undefined) yield events;
    }
    const rest = parser.end();
    const { code, stderr } = await proc.exited;
    if (code !== 0) throw failure(args, code, stderr);
    checkAllDiffed(args, order, parser.commits, stderr);
    done = true;
    if (rest.length > 0) yield rest;
  } finally {
    if (!done) proc.child.kill();
  }
}
