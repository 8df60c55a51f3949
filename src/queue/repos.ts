import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { QueueError } from './errors.js';
import { recordStore } from './layout.js';
import { QUEUE_PREFIX, queueRef } from './names.js';

export interface Repository {
  /** Path below reposRoot without `.git`, as people name it. */
  name: string;
  gitDir: string;
}

/** Bare repositories (`*.git` directories) under `root`, in name order; hidden directories are skipped. */
export function findRepositories(root: string): Repository[] {
  const out: Repository[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.name.endsWith('.git') && existsSync(join(path, 'HEAD'))) out.push({ name: relative(root, path).replace(/\.git$/, ''), gitDir: path });
      else walk(path);
    }
  };
  walk(root);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A cheap look at the files backend: does this repository possibly hold
 * `ref` (or, for a prefix ending in "/", anything under it)? False only
 * when it certainly does not; anything unusual says "maybe" and git decides.
 */
export function mayHoldRef(gitDir: string, ref: string): boolean {
  if (existsSync(join(gitDir, 'reftable'))) return true;
  if (existsSync(join(gitDir, ...ref.replace(/\/$/, '').split('/')))) return true;
  try {
    return readFileSync(join(gitDir, 'packed-refs'), 'utf8').includes(ref.endsWith('/') ? ` ${ref}` : ` ${ref}\n`);
  } catch {
    return false;
  }
}

/** Whether the repository may hold `ref` among its queue's records (or, in the old layout, its own refs). */
export function mayHoldRecord(gitDir: string, ref: string): boolean {
  const store = recordStore(gitDir);
  return (existsSync(join(store, 'HEAD')) && mayHoldRef(store, ref)) || mayHoldRef(gitDir, ref);
}

/** Repositories that may have queue entries at all. */
export function repositoriesWithQueue(root: string): Repository[] {
  return findRepositories(root).filter((repo) => mayHoldRecord(repo.gitDir, QUEUE_PREFIX));
}

/** The one answer for an entry the caller cannot see, whatever the reason: no repository, no entry, or not theirs. */
export function entryNotFound(id: string, repository?: string): QueueError {
  return new QueueError('queue.not-found', `no queue entry ${id}${repository === undefined ? '' : ` in ${repository.replace(/\.git$/, '').replace(/^\/+/, '')}`}`);
}

/**
 * The repositories that may hold entry `id`: across reposRoot unless the
 * caller names the repository. Messages name no server path. Ids are
 * random, so two repositories sharing one is unlikely; the caller decides
 * (after checking who may see which) whether that is ambiguous.
 */
export function entryCandidates(root: string, id: string, repository?: string, visible: (name: string) => boolean = () => true): Repository[] {
  const all = findRepositories(root).filter((r) => visible(r.name));
  const candidates = repository === undefined ? all : all.filter((r) => r.name === repository.replace(/\.git$/, '').replace(/^\/+/, ''));
  return candidates.filter((r) => mayHoldRecord(r.gitDir, queueRef(id)));
}

/** The repository holding entry `id`; see entryCandidates. */
export function locateEntry(root: string, id: string, repository?: string, visible: (name: string) => boolean = () => true): Repository {
  const found = entryCandidates(root, id, repository, visible);
  if (found.length === 0) throw entryNotFound(id, repository);
  if (found.length > 1) throw new QueueError('queue.ambiguous', `queue entry ${id} exists in ${found.map((r) => r.name).join(', ')}; name one with --repo`);
  return found[0]!;
}
