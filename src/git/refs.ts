import { GitError, lastLine } from './errors.js';
import { isFullOid, isZeroOid } from './oid.js';
import { runGit, runGitOrThrow } from './run.js';

export interface RefUpdate {
  /** Full ref name, e.g. refs/heads/main. */
  ref: string;
  /** The value to set; the zero oid deletes the ref. */
  newOid: string;
  /** The value the ref must have now; the zero oid means it must not exist; omitted means unchecked. */
  oldOid?: string;
}

export type RefUpdateFailure = 'stale' | 'locked' | 'failed';

export type RefUpdateResult =
  | { ok: true }
  | {
      ok: false;
      /** stale: a ref is not at its expected old value (someone moved it); locked: another writer holds a ref's lock; failed: anything else. */
      reason: RefUpdateFailure;
      /** The ref git complained about, when it named one. */
      ref?: string;
      message: string;
      stderr: string;
    };

/**
 * Applies all updates in one `git update-ref --stdin -z` transaction
 * (start, update…, prepare, commit): either every ref moves or none does,
 * and each move is a compare-and-swap against `oldOid`. Run it without the
 * quarantine variables; git refuses ref updates inside quarantine.
 */
export async function updateRefs(gitDir: string, updates: readonly RefUpdate[], env?: NodeJS.ProcessEnv): Promise<RefUpdateResult> {
  if (updates.length === 0) return { ok: true };
  const commands = ['start\0'];
  for (const update of updates) commands.push(command(update));
  commands.push('prepare\0', 'commit\0');
  const { code, stderr } = await runGit(['update-ref', '-z', '--stdin'], { gitDir, env, input: commands.join('') });
  if (code === 0) return { ok: true };
  return classify(gitDir, updates, env, stderr);
}

/** Creates `ref` at `oid`; fails as stale if it already exists. */
export function createRef(gitDir: string, ref: string, oid: string, env?: NodeJS.ProcessEnv): Promise<RefUpdateResult> {
  return updateRefs(gitDir, [{ ref, newOid: oid, oldOid: '0'.repeat(oid.length) }], env);
}

/** Deletes `ref`, only if it is at `oldOid` when given; deleting a missing ref fails as stale. */
export function deleteRef(gitDir: string, ref: string, oldOid?: string, env?: NodeJS.ProcessEnv): Promise<RefUpdateResult> {
  const update: RefUpdate = { ref, newOid: '0'.repeat(oldOid?.length ?? 40) };
  if (oldOid !== undefined) update.oldOid = oldOid;
  return updateRefs(gitDir, [update], env);
}

/**
 * One -z command. create/delete/verify say what is meant without a zero oid
 * of the right length, so the same input works in SHA-1 and SHA-256 repositories.
 */
function command({ ref, newOid, oldOid }: RefUpdate): string {
  if (ref === '' || ref.includes('\0') || ref.startsWith('-')) throw new GitError('git.invalid-argument', `not a ref name: ${JSON.stringify(ref)}`);
  for (const oid of [newOid, oldOid]) {
    if (oid !== undefined && !isFullOid(oid)) throw new GitError('git.invalid-argument', `${ref}: not a full object id: ${JSON.stringify(oid)}`);
  }
  const old = oldOid === undefined ? '' : oldOid;
  if (isZeroOid(newOid)) {
    if (oldOid !== undefined && isZeroOid(oldOid)) return `verify ${ref}\0\0`;
    return `delete ${ref}\0${old}\0`;
  }
  if (oldOid !== undefined && isZeroOid(oldOid)) return `create ${ref}\0${newOid}\0`;
  return `update ${ref}\0${newOid}\0${old}\0`;
}

const STALE_MESSAGE = /but expected|reference already exists|unable to resolve reference|reference is missing/;
const LOCK_MESSAGE = /\.lock'?: File exists|Unable to create .*\.lock/;

/**
 * Git's messages say which ref failed and roughly why; the refs' current
 * values say for sure whether an expectation no longer holds.
 */
async function classify(gitDir: string, updates: readonly RefUpdate[], env: NodeJS.ProcessEnv | undefined, stderr: string): Promise<RefUpdateResult> {
  const named = /cannot (?:lock|update) ref '([^']+)'/.exec(stderr)?.[1];
  const message = lastLine(stderr.split('\n\n')[0] ?? stderr) || 'git update-ref failed';
  const base = { ok: false as const, message, stderr, ...(named === undefined ? {} : { ref: named }) };
  let moved: string | undefined;
  try {
    const current = await readRefs(gitDir, updates.map((u) => u.ref), env);
    moved = updates.find((u) => u.oldOid !== undefined && (current.get(u.ref) ?? '0'.repeat(u.oldOid.length)) !== u.oldOid)?.ref;
  } catch {
    moved = undefined;
  }
  if (moved !== undefined) return { ...base, reason: 'stale', ref: moved };
  if (STALE_MESSAGE.test(stderr)) return { ...base, reason: 'stale' };
  if (LOCK_MESSAGE.test(stderr)) return { ...base, reason: 'locked' };
  return { ...base, reason: 'failed' };
}

/** Current values of the named refs (exact names); missing refs are absent from the map. */
export async function readRefs(gitDir: string, refs: readonly string[], env?: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const wanted = new Set(refs);
  const listed = await listRefs(gitDir, [...wanted], env);
  return new Map([...listed].filter(([ref]) => wanted.has(ref)));
}

/** Refs matching `patterns` (for-each-ref patterns: prefixes up to a slash, or globs) → object ids. */
export async function listRefs(gitDir: string, patterns: readonly string[], env?: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  if (patterns.length === 0) return refs;
  const { stdout } = await runGitOrThrow(['for-each-ref', '--format=%(objectname) %(refname)', '--', ...patterns], { gitDir, env, maxBuffer: 1024 * 1024 * 1024 });
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}
