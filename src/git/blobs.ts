import { CatFileBatch } from './cat-file.js';
import { checkAllDiffed, checkCommitIds } from './commit-ids.js';
import { isZeroOid } from './oid.js';
import { failure, spawnGit } from './run.js';

export interface ChangedBlob {
  commit: string;
  path: string;
  oid: string;
  /** Bytes of the blob as stored uncompressed. */
  size: number;
  mode: string;
  status: 'added' | 'modified';
}

interface RawEntry {
  commit: string;
  meta: string;
}

/**
 * The blobs each commit adds or modifies, with their sizes, for size limits:
 * `git diff-tree --stdin -r --raw -z -c` (merges: only paths that differ from
 * every parent) and `cat-file --batch-check`. Submodules and deletions are
 * left out; symlinks count (their blob is the target path).
 */
export async function changedBlobs(gitDir: string, commits: readonly string[], env?: NodeJS.ProcessEnv): Promise<ChangedBlob[]> {
  checkCommitIds(commits);
  if (commits.length === 0) return [];
  const args = ['diff-tree', '--stdin', '--always', '-r', '--raw', '-z', '-c', '--no-renames', '--root', '--no-abbrev'];
  const proc = spawnGit(args, { gitDir, env, stdin: true });
  proc.child.stdin!.end(commits.join('\n') + '\n');
  const catFile = new CatFileBatch(gitDir, env);
  const found: Promise<ChangedBlob | undefined>[] = [];
  try {
    let commit = '';
    const seen: string[] = [];
    let entry: RawEntry | undefined;
    for await (const field of nulFields(proc.child.stdout! as AsyncIterable<Buffer>)) {
      if (entry !== undefined) {
        found.push(sized(catFile, entry, field));
        entry = undefined;
      } else if (field.startsWith(':')) entry = { commit, meta: field };
      else {
        commit = field;
        seen.push(commit);
      }
    }
    const { code, stderr } = await proc.exited;
    if (code !== 0) throw failure(args, code, stderr);
    checkAllDiffed(args, commits, seen, stderr);
    const blobs = await Promise.all(found);
    return blobs.filter((blob): blob is ChangedBlob => blob !== undefined);
  } finally {
    proc.child.kill();
    await catFile.close();
  }
}

/** ":<mode per parent> <new mode> <oid per parent> <new oid> <status letters>" (one colon per parent). */
async function sized(catFile: CatFileBatch, entry: RawEntry, path: string): Promise<ChangedBlob | undefined> {
  let parents = 0;
  while (entry.meta[parents] === ':') parents += 1;
  const fields = entry.meta.slice(parents).split(' ');
  const mode = fields[parents]!;
  const oid = fields[2 * parents + 1]!;
  const letters = fields[2 * parents + 2] ?? '';
  if (isZeroOid(oid) || !(mode.startsWith('100') || mode === '120000')) return undefined;
  // A mode-only change keeps the blob some parent already has.
  if (fields.slice(parents + 1, 2 * parents + 1).includes(oid)) return undefined;
  const info = await catFile.info(oid);
  if (info === null) return undefined;
  const status = /^A+$/.test(letters) ? 'added' : 'modified';
  return { commit: entry.commit, path, oid, size: info.size, mode, status };
}

/** Splits a byte stream on NUL into UTF-8 strings. */
async function* nulFields(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let carry: Buffer[] = [];
  for await (const chunk of stream) {
    let start = 0;
    for (let nul = chunk.indexOf(0, start); nul >= 0; nul = chunk.indexOf(0, start)) {
      const piece = chunk.subarray(start, nul);
      yield carry.length === 0 ? piece.toString('utf8') : Buffer.concat([...carry, piece]).toString('utf8');
      carry = [];
      start = nul + 1;
    }
    if (start < chunk.length) carry.push(chunk.subarray(start));
  }
}
