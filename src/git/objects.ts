import { DEFAULT_EXCLUDED_REFS, uniqueTips, type NewCommitsOptions } from './commits.js';
import { GitError } from './errors.js';
import { failure, spawnGit } from './run.js';
import type { ObjectType } from './cat-file.js';

/** One object a push makes reachable that no existing ref reached before. */
export interface NewObject {
  oid: string;
  type: ObjectType;
  /** Bytes as stored uncompressed. */
  size: number;
  /**
   * The name `rev-list --objects` gives it: for trees and blobs the path from
   * the root tree it was first reached through ('' for a root tree or a blob
   * pushed as a tip; cut at a newline, as git prints it), for annotated tags
   * the tag's name, for commits ''.
   */
  name: string;
}

const LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+) ?(.*)$/;
const FORMAT = '%(objectname) %(objecttype) %(objectsize) %(rest)';

/**
 * Every object a push makes reachable and no existing ref did: commits,
 * trees, blobs and annotated tags, whatever the type of the pushed tips and
 * whatever the ref namespace (`git rev-list --objects --stdin --not --all`,
 * typed and sized by `git cat-file --batch-check`, which reads rev-list's
 * output as it comes). Refs under `excludeRefs` (default refs/pushgate/*)
 * do not count as existing: an object that is only parked is not accepted.
 * All-zero tips (deletions) are skipped. Run it with the hook's environment
 * so the quarantined objects are visible.
 */
export async function listNewObjects(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): Promise<NewObject[]> {
  const wanted = uniqueTips(tips);
  if (wanted.length === 0) return [];
  const excluded = (options.excludeRefs ?? DEFAULT_EXCLUDED_REFS).map((pattern) => `--exclude=${pattern}`);
  // As in newCommitGraph: tips on stdin, the exclusion on the command line (git < 2.42).
  const listArgs = ['rev-list', '--objects', '--stdin', '--not', ...excluded, '--all'];
  const checkArgs = ['cat-file', `--batch-check=${FORMAT}`];
  const list = spawnGit(listArgs, { gitDir, env, stdin: true });
  const check = spawnGit(checkArgs, { gitDir, env, stdin: true });
  try {
    list.child.stdin!.end(wanted.map((tip) => `${tip}\n`).join(''));
    list.child.stdout!.pipe(check.child.stdin!);
    const objects: NewObject[] = [];
    let carry = '';
    let bad: string | undefined;
    const take = (line: string): void => {
      const match = LINE.exec(line);
      if (match === null) {
        bad ??= line;
        return;
      }
      objects.push({ oid: match[1]!, type: match[2] as ObjectType, size: Number(match[3]), name: match[4]! });
    };
    check.child.stdout!.setEncoding('utf8');
    for await (const text of check.child.stdout! as AsyncIterable<string>) {
      const lines = (carry + text).split('\n');
      carry = lines.pop()!;
      for (const line of lines) take(line);
    }
    if (carry !== '') take(carry);
    const [listed, checked] = await Promise.all([list.exited, check.exited]);
    if (listed.code !== 0) throw failure(listArgs, listed.code, listed.stderr);
    if (checked.code !== 0) throw failure(checkArgs, checked.code, checked.stderr);
    // "<oid> missing": rev-list named an object cat-file cannot read. Nothing unread is let through.
    if (bad !== undefined) throw new GitError('git.protocol', `git cat-file could not read an object rev-list listed: ${JSON.stringify(bad.slice(0, 200))}`);
    return objects;
  } finally {
    list.child.kill();
    check.child.kill();
  }
}

/**
 * Reads one object's content in chunks (`git cat-file <type> <oid>`), for
 * objects too large to hold in memory at once. Resolves once git has
 * exited; rejects when git fails or `onChunk` throws (git is stopped then).
 */
export async function streamObject(gitDir: string, oid: string, type: ObjectType, onChunk: (chunk: Buffer) => void, env?: NodeJS.ProcessEnv): Promise<number> {
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(oid)) throw new GitError('git.invalid-argument', `not a full object id: ${JSON.stringify(oid)}`);
  const args = ['cat-file', type, oid];
  const proc = spawnGit(args, { gitDir, env });
  let bytes = 0;
  try {
    for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      onChunk(chunk);
    }
    const { code, stderr } = await proc.exited;
    if (code !== 0) throw failure(args, code, stderr);
    return bytes;
  } finally {
    proc.child.kill();
  }
}
