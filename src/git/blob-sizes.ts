import { changedBlobs, type ChangedBlob } from './blobs.js';
import type { CatFileBatch } from './cat-file.js';
import type { FileEvent } from './diff-parser.js';

/**
 * changedBlobs without a second pass over the history: the blobs that
 * non-merge commits add or modify are taken from the patch stream's own
 * FileEvents (`--full-index` names every new blob) and sized with one
 * `cat-file --batch-check` as they arrive. Merges still go through
 * changedBlobs: a dense combined diff leaves out paths whose hunks it finds
 * uninteresting, and the raw `-c` listing does not. The result is the list
 * changedBlobs gives for the same commits, in the same order.
 */
const ASK_IN_GROUPS_OF = 64;

export class StreamedBlobSizes {
  private readonly found = new Map<string, Promise<ChangedBlob | undefined>[]>();
  /** Blobs not yet asked about: asked in groups, since every request wakes git and costs a write; small ones, so that few are left for the end of the stream. */
  private unsized: { event: FileEvent; oid: string; mode: string; settle(blob: ChangedBlob | undefined): void; fail(error: unknown): void }[] = [];
  private readonly mergeBlobs: Promise<ChangedBlob[]>;

  /**
   * `catFile` answers the sizes (its owner closes it); `merges`: the commits
   * of the push with more than one parent, whose raw listing starts now.
   */
  constructor(
    private readonly catFile: CatFileBatch,
    gitDir: string,
    env: NodeJS.ProcessEnv | undefined,
    private readonly merges: ReadonlySet<string>,
    commits: readonly string[],
  ) {
    catFile.start();
    const mergeCommits = commits.filter((commit) => merges.has(commit));
    this.mergeBlobs = mergeCommits.length === 0 ? Promise.resolve([]) : changedBlobs(gitDir, mergeCommits, env);
    this.mergeBlobs.catch(() => undefined);
  }

  /** Feed every FileEvent of the stream; those of merges are ignored. */
  file(event: FileEvent): void {
    if (event.merge || this.merges.has(event.commit)) return;
    const { oid, mode } = event;
    // Deleted files, mode-only changes (no new blob) and submodules have nothing to size.
    if (event.status === 'deleted' || oid === null || mode === null || !(mode.startsWith('100') || mode === '120000')) return;
    let list = this.found.get(event.commit);
    if (list === undefined) {
      list = [];
      this.found.set(event.commit, list);
    }
    const sized = new Promise<ChangedBlob | undefined>((settle, fail) => this.unsized.push({ event, oid, mode, settle, fail }));
    sized.catch(() => undefined);
    list.push(sized);
    if (this.unsized.length >= ASK_IN_GROUPS_OF) this.ask();
  }

  private ask(): void {
    for (const { event, oid, mode, settle, fail } of this.unsized.splice(0)) {
      this.catFile.info(oid).then(
        (info) => settle(info === null
          ? undefined
          : { commit: event.commit, path: event.path, oid, size: info.size, mode, status: event.status === 'added' ? 'added' : 'modified' }),
        fail,
      );
    }
  }

  /** The sized blobs in `commits` order (call after the stream has ended). */
  async blobs(commits: readonly string[]): Promise<ChangedBlob[]> {
    this.ask();
    const byMerge = new Map<string, ChangedBlob[]>();
    for (const blob of await this.mergeBlobs) {
      const list = byMerge.get(blob.commit);
      if (list === undefined) byMerge.set(blob.commit, [blob]);
      else list.push(blob);
    }
    const out: ChangedBlob[] = [];
    for (const commit of commits) {
      if (this.merges.has(commit)) out.push(...(byMerge.get(commit) ?? []));
      else for (const blob of await Promise.all(this.found.get(commit) ?? [])) if (blob !== undefined) out.push(blob);
    }
    return out;
  }
}
