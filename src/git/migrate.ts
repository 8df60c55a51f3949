import { pipeline } from 'node:stream/promises';
import { uniqueTips } from './commits.js';
import { withoutQuarantine } from './env.js';
import { failure, runGitOrThrow, spawnGit } from './run.js';

export interface MigrateResult {
  /** Objects copied into the repository. */
  objects: number;
  /** Name of the pack written under objects/pack, or null when nothing was new. */
  pack: string | null;
}

const PACK_HEADER = 12;

export interface CopyObjectsOptions {
  /** The repository pack-objects runs in: it must see every object to copy. */
  source: string;
  /** Its environment (inside a hook: the quarantine variables, so the pushed objects are seen). */
  sourceEnv?: NodeJS.ProcessEnv;
  /** The repository whose object store receives the pack; index-pack runs there without the quarantine variables. */
  target: string;
  tips: readonly string[];
  /**
   * Objects reachable from this repository's refs are not copied (the
   * target can reach them already: it is that repository, or names its
   * objects as alternates). Null copies everything reachable from `tips`.
   */
  excludeRefsOf: { gitDir: string; env?: NodeJS.ProcessEnv; skipPrefix?: string } | null;
}

/**
 * Copies the objects reachable from `tips` (and from no ref of
 * `excludeRefsOf`) from one repository's view into another's object store
 * as one pack: out of a push's quarantine into a parked entry's store, or
 * from an approved entry's store into the repository. `pack-objects` runs
 * with the source's environment; `index-pack --fix-thin` without the
 * quarantine variables, so the pack lands in the target's objects/pack.
 */
export async function copyObjects(options: CopyObjectsOptions): Promise<MigrateResult> {
  const hookEnv = options.sourceEnv ?? process.env;
  const wanted = uniqueTips(options.tips);
  if (wanted.length === 0) return { objects: 0, pack: null };
  let input = wanted.map((tip) => `${tip}\n`).join('');
  if (options.excludeRefsOf !== null) {
    // pack-objects reads "--not" on stdin but not "--all", so the existing tips are listed.
    const skip = options.excludeRefsOf.skipPrefix;
    const { stdout } = await runGitOrThrow(['for-each-ref', '--format=%(objectname) %(refname)'], { gitDir: options.excludeRefsOf.gitDir, env: options.excludeRefsOf.env ?? hookEnv, maxBuffer: 1024 * 1024 * 1024 });
    const existing = [...new Set(stdout.split('\n').filter((line) => line !== '' && (skip === undefined || !line.slice(line.indexOf(' ') + 1).startsWith(skip))).map((line) => line.slice(0, line.indexOf(' '))))];
    input += '--not\n' + existing.map((oid) => `${oid}\n`).join('');
  }
  const gitDir = options.source;
  const packArgs = ['pack-objects', '--revs', '--stdout', '-q'];
  const packer = spawnGit(packArgs, { gitDir, env: hookEnv, stdin: true });
  packer.child.stdin!.end(input);
  const stream = packer.child.stdout![Symbol.asyncIterator]() as AsyncIterator<Buffer>;

  // The header ("PACK", version, object count) says whether there is anything to store.
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < PACK_HEADER) {
    const next = await stream.next();
    if (next.done === true) break;
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const objects = first.length >= PACK_HEADER ? first.readUInt32BE(8) : 0;
  if (objects === 0) {
    for (let next = await stream.next(); next.done !== true; next = await stream.next());
    const { code, stderr } = await packer.exited;
    if (code !== 0) throw failure(packArgs, code, stderr);
    return { objects: 0, pack: null };
  }

  const indexArgs = ['index-pack', '--stdin', '--fix-thin'];
  const indexer = spawnGit(indexArgs, { gitDir: options.target, env: withoutQuarantine(hookEnv), stdin: true });
  const output: Buffer[] = [];
  indexer.child.stdout!.on('data', (chunk: Buffer) => output.push(chunk));
  const rest = { [Symbol.asyncIterator]: () => stream };
  const copy = pipeline(async function* () {
    yield first;
    yield* rest;
  }, indexer.child.stdin!).catch(() => undefined);
  const [packed, indexed] = await Promise.all([packer.exited, indexer.exited, copy]);
  if (packed.code !== 0) throw failure(packArgs, packed.code, packed.stderr);
  if (indexed.code !== 0) throw failure(indexArgs, indexed.code, indexed.stderr);
  const pack = /^(?:pack|keep)\t([0-9a-f]+)/m.exec(Buffer.concat(output).toString('utf8'))?.[1] ?? null;
  return { objects, pack };
}

/**
 * Copies the objects a push brought (reachable from `tips`, and, with
 * `excludeAll`, from no existing ref) out of git's quarantine into the
 * repository itself.
 */
export function migrateObjects(gitDir: string, tips: readonly string[], excludeAll = true, hookEnv: NodeJS.ProcessEnv = process.env): Promise<MigrateResult> {
  return copyObjects({ source: gitDir, sourceEnv: hookEnv, target: gitDir, tips, excludeRefsOf: excludeAll ? { gitDir, env: hookEnv } : null });
}
