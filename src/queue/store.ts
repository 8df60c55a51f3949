import {
  CatFileBatch, listRefs, resolveRef, runGitOrThrow, updateRefs, withoutQuarantine,
  type RefUpdate,
} from '../git/index.js';
import { QueueError } from './errors.js';
import { QUEUE_PREFIX, queueRef } from './names.js';
import { parseRecord, type QueueRecord } from './record.js';

/** A record as read: the commit `refs/pushgate/queue/<id>` points at, and its record.json. */
export interface StoredRecord {
  oid: string;
  record: QueueRecord;
}

export const RECORD_FILE = 'record.json';

/** The record commits are written by pushgate, not by whoever runs the command. */
const RECORD_AUTHOR = { name: 'pushgate', email: 'pushgate@localhost' };

/**
 * The entry `id` of one repository, or null when it has none. Looks the
 * ref up by name rather than listing refs: a listing that runs while
 * `git pack-refs` moves loose refs into packed-refs can miss some.
 */
export async function readRecord(gitDir: string, id: string, env?: NodeJS.ProcessEnv): Promise<StoredRecord | null> {
  const oid = await resolveRef(gitDir, queueRef(id), env);
  if (oid === null) return null;
  const batch = new CatFileBatch(gitDir, env);
  try {
    return { oid, record: await recordAt(batch, oid, id) };
  } finally {
    await batch.close();
  }
}

export interface RepositoryRecords {
  records: StoredRecord[];
  /** Entries whose record could not be read, with why. */
  problems: { id: string; message: string }[];
}

/** Every entry of one repository. */
export async function readAllRecords(gitDir: string, env?: NodeJS.ProcessEnv): Promise<RepositoryRecords> {
  const refs = await listRefs(gitDir, [QUEUE_PREFIX], env);
  const out: RepositoryRecords = { records: [], problems: [] };
  if (refs.size === 0) return out;
  const batch = new CatFileBatch(gitDir, env);
  try {
    await Promise.all([...refs].map(async ([ref, oid]) => {
      const id = ref.slice(QUEUE_PREFIX.length);
      try {
        out.records.push({ oid, record: await recordAt(batch, oid, id) });
      } catch (error) {
        out.problems.push({ id, message: (error as Error).message });
      }
    }));
  } finally {
    await batch.close();
  }
  out.records.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.record.id.localeCompare(b.record.id));
  return out;
}

async function recordAt(batch: CatFileBatch, oid: string, id: string): Promise<QueueRecord> {
  const blob = await batch.read(`${oid}:${RECORD_FILE}`);
  if (blob === null || blob.type !== 'blob') throw new QueueError('queue.failed', `queue entry ${id}: ${oid} has no ${RECORD_FILE}`);
  const record = parseRecord(blob.data.toString('utf8'));
  if (record.id !== id) throw new QueueError('queue.failed', `queue entry ${id}: its record names ${record.id}`);
  return record;
}

/**
 * Writes the record as a commit (tree: record.json; parent: the previous
 * state) without moving any ref. Until a ref points at it, it is garbage
 * that nothing reads.
 */
export async function writeRecordCommit(gitDir: string, record: QueueRecord, message: string, parent: string | null, env?: NodeJS.ProcessEnv): Promise<string> {
  const outside = withoutQuarantine(env);
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const blob = (await runGitOrThrow(['hash-object', '-w', '--stdin'], { gitDir, env: outside, input: text })).stdout.trim();
  const tree = (await runGitOrThrow(['mktree'], { gitDir, env: outside, input: `100644 blob ${blob}\t${RECORD_FILE}\n` })).stdout.trim();
  const at = record.events.at(-1)?.at ?? record.createdAt;
  const identity = {
    GIT_AUTHOR_NAME: RECORD_AUTHOR.name, GIT_AUTHOR_EMAIL: RECORD_AUTHOR.email, GIT_AUTHOR_DATE: at,
    GIT_COMMITTER_NAME: RECORD_AUTHOR.name, GIT_COMMITTER_EMAIL: RECORD_AUTHOR.email, GIT_COMMITTER_DATE: at,
  };
  const args = ['commit-tree', '--no-gpg-sign', tree, ...(parent === null ? [] : ['-p', parent]), '-F', '-'];
  return (await runGitOrThrow(args, { gitDir, env: { ...outside, ...identity }, input: `${message}\n` })).stdout.trim();
}

export type TransitionResult =
  | { ok: true; oid: string }
  /** record-moved: someone else changed the entry first (read it again); stale: one of `refs` was not at its expected value. */
  | { ok: false; reason: 'record-moved' | 'stale' | 'locked' | 'failed'; ref?: string; message: string };

/**
 * Moves the entry from `from` (null: it does not exist yet) to `record`
 * and applies `refs` in the same git ref transaction, so both happen or
 * neither does. The record ref is compare-and-swapped against `from`: of
 * two writers starting from the same state, exactly one succeeds. It comes
 * last in the transaction, whose lock files git renames in order: even a
 * git that dies half-way through never shows a new state whose refs did not move.
 */
export async function commitTransition(
  gitDir: string, from: StoredRecord | null, record: QueueRecord, message: string, refs: readonly RefUpdate[], env?: NodeJS.ProcessEnv,
): Promise<TransitionResult> {
  const outside = withoutQuarantine(env);
  const oid = await writeRecordCommit(gitDir, record, message, from?.oid ?? null, outside);
  const ref = queueRef(record.id);
  const result = await updateRefs(gitDir, [...refs, { ref, newOid: oid, oldOid: from?.oid ?? '0'.repeat(oid.length) }], outside);
  if (result.ok) return { ok: true, oid };
  const current = (await resolveRef(gitDir, ref, outside).catch(() => null)) ?? undefined;
  if (current !== from?.oid) return { ok: false, reason: 'record-moved', ref, message: result.message };
  return { ok: false, reason: result.reason, message: result.message, ...(result.ref === undefined ? {} : { ref: result.ref }) };
}
