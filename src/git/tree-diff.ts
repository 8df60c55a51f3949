import type { CatFileBatch } from './cat-file.js';
import { GitError } from './errors.js';
import { forEachTreeEntry } from './tree.js';

/** One path that differs between two trees. */
export interface TreeChange {
  path: string;
  /** null: absent on that side. */
  oldOid: string | null;
  newOid: string | null;
  oldMode: string | null;
  newMode: string | null;
}

export interface TreeDiff {
  changes: TreeChange[];
  /** More trees than `maxTrees` differ: the changes are not complete. */
  truncated: boolean;
}

const TREE = '40000';

interface Entry {
  mode: string;
  oid: string;
}

/**
 * The paths that differ between two commits' trees (`git diff-tree -r`),
 * read through a long-lived cat-file process instead of a git process per
 * comparison: only subtrees whose ids differ are read, so a push that
 * changes a few files reads a few trees. A null commit is an empty tree.
 * Submodule entries are reported like files. At most `maxTrees` trees are
 * read; past that the diff says it is truncated rather than guess.
 */
export async function diffCommitTrees(catFile: CatFileBatch, oldCommit: string | null, newCommit: string | null, maxTrees = 50_000): Promise<TreeDiff> {
  const changes: TreeChange[] = [];
  let budget = maxTrees;
  let truncated = false;
  const readTree = async (name: string): Promise<Map<string, Entry>> => {
    const object = await catFile.read(name);
    if (object === null || object.type !== 'tree') throw new GitError('git.failed', `git cat-file cannot read tree ${name}`);
    const entries = new Map<string, Entry>();
    forEachTreeEntry(object.data, object.oid.length / 2, (mode, start, end, oid) => {
      entries.set(object.data.toString('utf8', start, end), { mode: mode === '040000' ? TREE : mode, oid });
    });
    return entries;
  };
  const walk = async (prefix: string, oldTree: Promise<Map<string, Entry>> | null, newTree: Promise<Map<string, Entry>> | null): Promise<void> => {
    const [before, after] = await Promise.all([oldTree ?? new Map<string, Entry>(), newTree ?? new Map<string, Entry>()]);
    const inner: Promise<void>[] = [];
    const subtree = (entry: Entry | undefined): Promise<Map<string, Entry>> | null => {
      if (entry === undefined || entry.mode !== TREE) return null;
      if (--budget < 0) {
        truncated = true;
        return null;
      }
      return readTree(entry.oid);
    };
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const a = before.get(name);
      const b = after.get(name);
      if (a !== undefined && b !== undefined && a.oid === b.oid && a.mode === b.mode) continue;
      const path = prefix + name;
      const aFile = a !== undefined && a.mode !== TREE ? a : undefined;
      const bFile = b !== undefined && b.mode !== TREE ? b : undefined;
      if (aFile !== undefined || bFile !== undefined) {
        changes.push({ path, oldOid: aFile?.oid ?? null, newOid: bFile?.oid ?? null, oldMode: aFile?.mode ?? null, newMode: bFile?.mode ?? null });
      }
      const aTree = subtree(a);
      const bTree = subtree(b);
      if (aTree !== null || bTree !== null) inner.push(walk(`${path}/`, aTree, bTree));
    }
    await Promise.all(inner);
  };
  await walk('', oldCommit === null ? null : readTree(`${oldCommit}^{tree}`), newCommit === null ? null : readTree(`${newCommit}^{tree}`));
  changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  return { changes, truncated };
}
