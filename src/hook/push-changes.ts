import type { DepsConfig } from '../config/index.js';
import type { CatFileBatch } from '../git/cat-file.js';
import { isZeroOid } from '../git/oid.js';
import { diffCommitTrees, type TreeChange } from '../git/tree-diff.js';
import type { ManifestComparison } from '../policy/deps/check.js';
import { ManifestError, manifestKind, parseManifest, type Manifest, type ManifestKind } from '../policy/deps/manifests.js';
import type { ClassifiedUpdate } from '../policy/types.js';

/** What an update changes, tip to tip. */
export interface UpdateChanges {
  update: ClassifiedUpdate;
  /** The commit the new tip is compared with; null: nothing (every file is new). */
  base: string | null;
  changes: TreeChange[];
  truncated: boolean;
}

/**
 * The paths each update changes between the ref's old value (for a new ref:
 * `baseOf` — the push's one boundary commit or the default branch) and its
 * new value, through the hook's cat-file process. Deletions change nothing.
 * Updates with the same base and tip are compared once.
 */
export async function readUpdateChanges(catFile: CatFileBatch, updates: readonly ClassifiedUpdate[], baseOf: (update: ClassifiedUpdate) => Promise<string | null>): Promise<UpdateChanges[]> {
  const compared = new Map<string, Promise<{ changes: TreeChange[]; truncated: boolean }>>();
  // A ref may be set to a blob, a tree or a tag of one: it has no files to compare
  // (the content scan reads such objects whole), and an old value like that is no base.
  const peelsToCommit = async (oid: string): Promise<boolean> => (await catFile.info(`${oid}^{commit}`)) !== null;
  const read = await Promise.all(updates.filter((u) => !isZeroOid(u.newOid)).map(async (update): Promise<UpdateChanges | undefined> => {
    if (!(await peelsToCommit(update.newOid))) return undefined;
    let base = isZeroOid(update.oldOid) ? await baseOf(update) : update.oldOid;
    if (base !== null && !(await peelsToCommit(base))) base = null;
    const key = `${base ?? ''} ${update.newOid}`;
    let diff = compared.get(key);
    if (diff === undefined) {
      diff = diffCommitTrees(catFile, base, update.newOid);
      compared.set(key, diff);
    }
    return { update, base, ...(await diff) };
  }));
  return read.filter((changes): changes is UpdateChanges => changes !== undefined);
}

const REGULAR = /^100(?:644|755)$/;

async function readManifest(catFile: CatFileBatch, kind: ManifestKind, oid: string, mode: string, maxBytes: number): Promise<Manifest> {
  if (!REGULAR.test(mode)) throw new ManifestError(mode === '120000' ? 'it is a symbolic link, which its tool would follow outside what was reviewed' : `it is not a regular file (mode ${mode})`);
  const info = await catFile.info(oid);
  if (info === null) throw new ManifestError(`blob ${oid} cannot be read`);
  if (info.size > maxBytes) throw new ManifestError(`it is ${info.size} bytes, more than policy.deps.maxFileSize (${maxBytes})`);
  const blob = await catFile.read(oid);
  if (blob === null) throw new ManifestError(`blob ${oid} cannot be read`);
  return parseManifest(kind, blob.data.toString('utf8'));
}

/**
 * Both versions of every manifest and lockfile the in-scope updates change,
 * read and parsed. A new version that cannot be read becomes a `problem`
 * (the check parks it); an old version that cannot be read counts as absent,
 * so everything in the new one is reported.
 */
export async function readManifestComparisons(catFile: CatFileBatch, changed: readonly UpdateChanges[], config: DepsConfig): Promise<ManifestComparison[]> {
  const out: Promise<ManifestComparison>[] = [];
  for (const { update, changes, truncated } of changed) {
    if (truncated) {
      out.push(Promise.resolve({ ref: update.ref, commit: update.newOid, path: '(tree)', before: null, after: null, problem: 'the update changes too many directories to compare its manifests' }));
    }
    for (const change of changes) {
      const kind = manifestKind(change.path);
      if (kind === undefined || change.newOid === null) continue;
      const base = { ref: update.ref, commit: update.newOid, path: change.path };
      out.push((async (): Promise<ManifestComparison> => {
        const before = change.oldOid === null ? null : readManifest(catFile, kind, change.oldOid, change.oldMode!, config.maxFileSize).catch(() => null);
        try {
          const after = await readManifest(catFile, kind, change.newOid!, change.newMode!, config.maxFileSize);
          return { ...base, before: await before, after };
        } catch (error) {
          if (!(error instanceof ManifestError)) throw error;
          return { ...base, before: null, after: null, problem: error.message };
        }
      })());
    }
  }
  return Promise.all(out);
}
