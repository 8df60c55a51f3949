import { DEFAULT_EXCLUDED_REFS, uniqueTips, type NewCommitGraph, type NewCommitsOptions } from './commits.js';
import { isFullOid } from './oid.js';
import { CatFileBatch, type ObjectType } from './cat-file.js';
import { describeCommand, GitError } from './errors.js';
import { failure, runGitOrThrow, spawnGit } from './run.js';

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

/** A line of `rev-list --objects`: a commit is its id alone; anything else is its id, a space and a name (maybe empty). */
export interface ListedObject {
  oid: string;
  /** null for a commit. */
  name: string | null;
}

const LISTED = /^([0-9a-f]{40}|[0-9a-f]{64})(?: (.*))?$/;

/**
 * Every object a push makes reachable and no existing ref did: commits,
 * trees, blobs and annotated tags, whatever the type of the pushed tips and
 * whatever the ref namespace (`git rev-list --objects --stdin --not --all`).
 * Refs under `excludeRefs` (default refs/pushgate/*) do not count as
 * existing: an object that is only parked is not accepted. All-zero tips
 * (deletions) are skipped. Run it with the hook's environment so the
 * quarantined objects are visible. typeObjects() adds types and sizes.
 */
export async function listNewObjectNames(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): Promise<ListedObject[]> {
  const wanted = uniqueTips(tips);
  if (wanted.length === 0) return [];
  const excluded = (options.excludeRefs ?? DEFAULT_EXCLUDED_REFS).map((pattern) => `--exclude=${pattern}`);
  // As in newCommitGraph: tips on stdin, the exclusion on the command line (git < 2.42).
  const args = ['rev-list', '--objects', '--stdin', '--not', ...excluded, '--all'];
  const { stdout } = await runGitOrThrow(args, { gitDir, env, input: wanted.map((tip) => `${tip}\n`).join(''), maxBuffer: 1024 * 1024 * 1024 });
  const out: ListedObject[] = [];
  if (stdout === '') return out;
  for (const line of stdout.slice(0, stdout.endsWith('\n') ? -1 : undefined).split('\n')) {
    const match = LISTED.exec(line);
    if (match === null) throw new GitError('git.protocol', `unexpected line from ${describeCommand(args)}: ${JSON.stringify(line.slice(0, 200))}`);
    out.push({ oid: match[1]!, name: match[2] ?? null });
  }
  return out;
}

/** Types and sizes for listed objects, through a (shared) cat-file process. An object it cannot read fails the whole: nothing unread is let through. */
export async function typeObjects(listed: readonly ListedObject[], catFile: CatFileBatch): Promise<NewObject[]> {
  return Promise.all(listed.map(async ({ oid, name }) => {
    const info = await catFile.info(oid);
    if (info === null) throw new GitError('git.failed', `git cat-file cannot read object ${oid}, which rev-list listed`);
    return { oid, type: info.type, size: info.size, name: name ?? '' };
  }));
}

/** listNewObjectNames and typeObjects with a cat-file process of its own. */
export async function listNewObjects(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): Promise<NewObject[]> {
  const listed = await listNewObjectNames(gitDir, tips, env, options);
  const catFile = new CatFileBatch(gitDir, env);
  try {
    return await typeObjects(listed, catFile);
  } finally {
    await catFile.close();
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

/** newCommitGraph and listNewObjectNames from one walk (listPush). */
export interface PushListing {
  /** Settles as soon as git has printed the last commit: the diff can start while the trees are still walked. */
  graph: Promise<NewCommitGraph>;
  objects: Promise<ListedObject[]>;
}

/** Commit lines are marked: "-" boundary, ">" (or "<", "+") new; object lines start with their hex id, so the two never mix up. */
const COMMIT_FORMAT = '--format=%m %H %P';

/**
 * What newCommitGraph and listNewObjectNames return, from one
 * `git rev-list --objects` walk instead of two: git prints every commit
 * before any other object, so the commit graph is known as soon as the
 * first object line arrives. Commits are printed through a format whose
 * lines start with a mark, so that no object name (a tag or file named like
 * an object id) can pass for a commit.
 */
export function listPush(gitDir: string, tips: readonly string[], env?: NodeJS.ProcessEnv, options: NewCommitsOptions = {}): PushListing {
  let wanted: string[];
  try {
    wanted = uniqueTips(tips);
  } catch (error) {
    return { graph: Promise.reject(error), objects: Promise.reject(error) };
  }
  if (wanted.length === 0) return { graph: Promise.resolve({ commits: [], merges: new Set(), boundary: new Set() }), objects: Promise.resolve([]) };
  const excluded = (options.excludeRefs ?? DEFAULT_EXCLUDED_REFS).map((pattern) => `--exclude=${pattern}`);
  const since = options.since?.filter((oid) => isFullOid(oid)) ?? [];
  const args = ['rev-list', '--topo-order', '--reverse', '--boundary', '--objects', '--no-commit-header', COMMIT_FORMAT, '--stdin', '--not', ...(options.since === undefined ? [...excluded, '--all'] : since)];
  const graph: NewCommitGraph = { commits: [], merges: new Set(), boundary: new Set() };
  const objects: ListedObject[] = [];
  let settleGraph!: (value: NewCommitGraph) => void;
  let failGraph!: (error: unknown) => void;
  const graphDone = new Promise<NewCommitGraph>((resolve, reject) => {
    settleGraph = resolve;
    failGraph = reject;
  });
  let inCommits = true;
  const take = (line: string): void => {
    if (inCommits && line.length > 2 && line[1] === ' ' && !/[0-9a-f]/.test(line[0]!)) {
      const [oid, ...parents] = line.slice(2).split(' ').filter((word) => word !== '');
      if (oid === undefined || !isFullOid(oid) || !parents.every(isFullOid)) throw new GitError('git.protocol', `unexpected commit line from ${describeCommand(args)}: ${JSON.stringify(line.slice(0, 200))}`);
      if (line[0] === '-') graph.boundary.add(oid);
      else {
        graph.commits.push(oid);
        if (parents.length > 1) graph.merges.add(oid);
      }
      return;
    }
    if (inCommits) {
      inCommits = false;
      settleGraph(graph);
    }
    const match = LISTED.exec(line);
    if (match === null) throw new GitError('git.protocol', `unexpected line from ${describeCommand(args)}: ${JSON.stringify(line.slice(0, 200))}`);
    objects.push({ oid: match[1]!, name: match[2] ?? null });
  };
  const listed = (async (): Promise<ListedObject[]> => {
    const proc = spawnGit(args, { gitDir, env, stdin: true });
    try {
      proc.child.stdin!.end(wanted.map((tip) => `${tip}\n`).join(''));
      let carry = '';
      proc.child.stdout!.setEncoding('utf8');
      for await (const text of proc.child.stdout! as AsyncIterable<string>) {
        const lines = (carry + text).split('\n');
        carry = lines.pop()!;
        for (const line of lines) take(line);
      }
      if (carry !== '') take(carry);
      const { code, stderr } = await proc.exited;
      if (code !== 0) throw failure(args, code, stderr);
      settleGraph(graph);
      return objects;
    } catch (error) {
      failGraph(error);
      throw error;
    } finally {
      proc.child.kill();
    }
  })();
  listed.catch(() => undefined);
  return { graph: graphDone, objects: listed };
}
