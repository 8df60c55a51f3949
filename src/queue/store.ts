import {
  CatFileBatch, listRefs, resolveRef, runGitOrThrow, updateRefs, withoutQuarantine,
} from '../git/index.js';
import { QueueError } from './errors.js';
import { ensureRecordStore, objectFormatOf, recordStore, storeExists } from './layout.js';
import { QUEUE_PREFIX, queueRef } from './names.js';
import { parseRecord, type QueueRecord } from './record.js';
import { mayHoldRef } from './repos.js';

/** A record as read: the commit `refs/pushgate/queue/<id>` points at (in the records' repository), and its record.json. */
export interface StoredRecord {
  oid: string;
  record: QueueRecord;
  /**
   * Kept in the old layout, inside the repository itself (refs/pushgate/*
   * of the repository): readable, but nothing acts on it until
   * `pushgate queue migrate` moves it out.
   */
  legacy?: true;
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
  const store = recordStore(gitDir);
  const outside = withoutQuarantine(env);
  const oid = storeExists(store) ? await resolveRef(store, queueRef(id), outside) : null;
  if (oid !== null) return readAt(store, oid, id, outside);
  if (!mayHoldRef(gitDir, queueRef(id))) return null;
  const legacy = await resolveRef(gitDir, queueRef(id), outside);
  return legacy === null ? null : { ...(await readAt(gitDir, legacy, id, outside)), legacy: true };
}

async function readAt(gitDir: string, oid: string, id: string, env: NodeJS.ProcessEnv): Promise<StoredRecord> {
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
  const out: RepositoryRecords = { records: [], problems: [] };
  const outside = withoutQuarantine(env);
  const store = recordStore(gitDir);
  if (storeExists(store)) await readAllIn(store, outside, out, false);
  if (mayHoldRef(gitDir, QUEUE_PREFIX)) await readAllIn(gitDir, outside, out, true);
  out.records.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt) || a.record.id.localeCompare(b.record.id));
  return out;
}

async function readAllIn(gitDir: string, env: NodeJS.ProcessEnv, out: RepositoryRecords, legacy: boolean): Promise<void> {
  const refs = await listRefs(gitDir, [QUEUE_PREFIX], env);
  if (refs.size === 0) return;
  const seen = new Set(out.records.map((r) => r.record.id));
  const batch = new CatFileBatch(gitDir, env);
  try {
    await Promise.all([...refs].map(async ([ref, oid]) => {
      const id = ref.slice(QUEUE_PREFIX.length);
      if (seen.has(id)) return;
      try {
        out.records.push({ oid, record: await recordAt(batch, oid, id), ...(legacy ? { legacy: true as const } : {}) });
      } catch (error) {
        out.problems.push({ id, message: (error as Error).message });
      }
    }));
  } finally {
    await batch.close();
  }
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
 * state) in the records' repository `store`, without moving any ref. Until
 * a ref points at it, it is garbage that nothing reads.
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
 * Moves the entry of repository `gitDir` from `from` (null: it does not
 * exist yet) to `record`, in the records' repository. The record ref is
 * compare-and-swapped against `from`: of two writers starting from the same
 * state, exactly one succeeds. The message is pushgate's own text (ids,
 * principals, ref names); anything a person wrote is in the record, masked.
 */
export async function commitTransition(
  gitDir: string, from: StoredRecord | null, record: QueueRecord, message: string, env?: NodeJS.ProcessEnv,
): Promise<TransitionResult> {
  if (from?.legacy === true) throw new QueueError('queue.legacy', `queue entry ${record.id} is kept in the old layout; an administrator must run \`pushgate queue migrate\` before it can be decided`);
  const outside = withoutQuarantine(env);
  const store = await ensureRecordStore(gitDir, objectFormatOf(record.updates[0]?.new ?? ''));
  const oid = await writeRecordCommit(store, record, message, from?.oid ?? null, outside);
  const ref = queueRef(record.id);
  const result = await updateRefs(store, [{ ref, newOid: oid, oldOid: from?.oid ?? '0'.repeat(oid.length) }], outside);
  if (result.ok) return { ok: true, oid };
  const current = (await resolveRef(store, ref, outside).catch(() => null)) ?? undefined;
  if (current !== from?.oid) return { ok: false, reason: 'record-moved', ref, message: result.message };
  return { ok: false, reason: result.reason, message: result.message, ...(result.ref === undefined ? {} : { ref: result.ref }) };
}
