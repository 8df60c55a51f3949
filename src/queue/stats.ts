import { isZeroOid, runGit } from '../git/index.js';
import type { RefUpdate } from '../policy/index.js';
import { COMMIT_SUMMARY_LIMIT, type CommitSummary, type DiffStats } from './record.js';

/**
 * Files, insertions and deletions the push would bring to its refs: each
 * update against its old value, a new ref against where it leaves the
 * default branch (or nothing). Run with the hook's environment. Informational:
 * what git cannot diff (a tag of a blob) is left out rather than failing the park.
 */
export async function diffStats(gitDir: string, updates: readonly RefUpdate[], commitCount: number, env: NodeJS.ProcessEnv): Promise<DiffStats> {
  const files = new Map<string, { insertions: number; deletions: number }>();
  for (const update of updates) {
    if (isZeroOid(update.newOid)) continue;
    const base = isZeroOid(update.oldOid) ? await creationBase(gitDir, update.newOid, env) : update.oldOid;
    const { stdout, code } = await runGit(['diff', '--numstat', '--no-renames', base, update.newOid, '--'], { gitDir, env });
    if (code !== 0) continue;
    for (const line of stdout.split('\n')) {
      const [added, removed, ...path] = line.split('\t');
      if (path.length === 0) continue;
      files.set(path.join('\t'), { insertions: Number(added) || 0, deletions: Number(removed) || 0 });
    }
  }
  let insertions = 0;
  let deletions = 0;
  for (const file of files.values()) {
    insertions += file.insertions;
    deletions += file.deletions;
  }
  return { commits: commitCount, files: files.size, insertions, deletions };
}

async function creationBase(gitDir: string, tip: string, env: NodeJS.ProcessEnv): Promise<string> {
  const base = await runGit(['merge-base', 'HEAD', tip], { gitDir, env });
  if (base.code === 0 && base.stdout.trim() !== '') return base.stdout.trim();
  const empty = await runGit(['hash-object', '-t', 'tree', '--stdin'], { gitDir, env, input: '' });
  return empty.stdout.trim();
}

/** Author and subject of the first commits (parents first), for reviewers. */
export async function commitSummaries(gitDir: string, commits: readonly string[], env: NodeJS.ProcessEnv): Promise<CommitSummary[]> {
  const shown = commits.slice(0, COMMIT_SUMMARY_LIMIT);
  if (shown.length === 0) return [];
  const { stdout, code } = await runGit(['log', '--no-walk=unsorted', '--stdin', '--format=%H%x00%an <%ae>%x00%s'], { gitDir, env, input: shown.map((c) => `${c}\n`).join('') });
  if (code !== 0) return shown.map((oid) => ({ oid, author: '', subject: '' }));
  return stdout.split('\n').filter((l) => l !== '').map((line) => {
    const [oid = '', author = '', subject = ''] = line.split('\0');
    return { oid, author, subject };
  });
}
