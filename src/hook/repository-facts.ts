import { readFsckSettings, type FsckSettings } from '../git/fsck.js';
import { isZeroOid } from '../git/oid.js';
import { listRefs } from '../git/refs.js';
import type { RefUpdate } from '../policy/types.js';

/** What the ref and repository checks need to know about the repository, beyond the push itself. */
export interface RepositoryFacts {
  /** git's object checks as receive-pack applied them to this push. */
  fsck: FsckSettings;
  /** Every ref the repository has; read only when the push creates a ref (for the case-conflict check). */
  existingRefs?: string[];
}

/**
 * Read with git while the push's commits are listed: one `git config`, and a
 * `git for-each-ref` only when a ref is created. Both run in parallel with
 * the rest of the hook's git work, not after it.
 */
export async function readRepositoryFacts(gitDir: string, updates: readonly RefUpdate[], env: NodeJS.ProcessEnv): Promise<RepositoryFacts> {
  const creates = updates.some((u) => isZeroOid(u.oldOid));
  const [fsck, refs] = await Promise.all([
    readFsckSettings(gitDir, env),
    creates ? listRefs(gitDir, ['refs/'], env) : undefined,
  ]);
  return { fsck, ...(refs !== undefined ? { existingRefs: [...refs.keys()] } : {}) };
}
