import { minimatch } from 'minimatch';
import type { Finding } from './types.js';

/** What a repository's `.pushgate/allowlist.yaml` may hold. */
export interface RepoAllowlist {
  paths: string[];
  values: string[];
  fingerprints: string[];
}

export const EMPTY_ALLOWLIST: RepoAllowlist = { paths: [], values: [], fingerprints: [] };

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * Reads an allowlist file. It comes from the target branch as it was before
 * the push, so a malformed one is ignored (with a note), never fatal.
 */
export async function parseRepoAllowlist(text: string): Promise<{ allowlist: RepoAllowlist; problem?: string }> {
  // Loaded only when a repository has an allowlist: the YAML parser is the
  // largest module on the hook's path, and most pushes never need it.
  const { parse } = await import('yaml');
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    return { allowlist: EMPTY_ALLOWLIST, problem: `not YAML: ${(error as Error).message.split('\n')[0]}` };
  }
  if (data === null || data === undefined) return { allowlist: EMPTY_ALLOWLIST };
  if (typeof data !== 'object' || Array.isArray(data)) return { allowlist: EMPTY_ALLOWLIST, problem: 'expected a mapping with paths, values, fingerprints' };
  const record = data as Record<string, unknown>;
  return { allowlist: { paths: strings(record.paths), values: strings(record.values), fingerprints: strings(record.fingerprints) } };
}

export function mergeAllowlists(lists: readonly RepoAllowlist[]): RepoAllowlist {
  return {
    paths: lists.flatMap((l) => l.paths),
    values: lists.flatMap((l) => l.values),
    fingerprints: lists.flatMap((l) => l.fingerprints),
  };
}

/**
 * Changing the allowlist file is always a finding that parks, whatever the
 * ref, the configuration's overrides or the policy mode: a file that can
 * allowlist secrets is only ever on a trusted branch because a reviewer
 * read it. See decide.ts (FIXED_RULES).
 */
export const ALLOWLIST_CHANGE_RULE = {
  id: 'allowlist.changed',
  title: 'change to the repository allowlist file',
  fix: 'A reviewer must read changes to the allowlist: wait for approval, or leave the file out of the push.',
} as const;

/** Branches whose allowlist file is read by default: those a pusher cannot change without review under the default protect rules and allowlist rule. */
export const DEFAULT_TRUSTED_REFS: readonly string[] = ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**'];

/** Whether a path names the allowlist file: compared without regard to case, so that no variant slips past the change rule on a case-insensitive checkout. */
export function isAllowlistPath(path: string, repoFile: string | null): boolean {
  if (repoFile === null) return false;
  const norm = (p: string): string => p.split('/').filter((part) => part !== '' && part !== '.').join('/').toLowerCase();
  return norm(path) === norm(repoFile);
}

/** A branch (refs/heads/…) named by one of the trusted patterns; nothing outside refs/heads/ is ever trusted. */
export function isTrustedBranch(ref: string, trustedRefs: readonly string[]): boolean {
  if (!ref.startsWith('refs/heads/')) return false;
  return trustedRefs.some((pattern) => pattern.startsWith('refs/heads/') && minimatch(ref, pattern));
}

export interface AllowlistSource {
  /** The commit to read the allowlist file from; null: only the server's allowlist applies. */
  commit: string | null;
  /** The trusted branch it is the old value of. */
  ref?: string;
  /** Why no repository allowlist applies, when the pusher should know. */
  note?: string;
}

/**
 * Where the repository allowlist of a push comes from, before anything is
 * read: a trusted branch as it was before the push. An update of a trusted
 * branch reads that branch's old value; every other update (a new branch, a
 * feature branch, a tag, a note, any other namespace) reads the default
 * branch, when HEAD names a trusted branch, as it is now. A push whose
 * updates would read different commits, or of which one has no trusted
 * source, gets none: findings are not tied to refs, so no allowlist may
 * reach content it was not reviewed for. Deletions bring no content.
 * Never the pushed objects, never a ref outside refs/heads/.
 */
export function chooseAllowlistSource(
  updates: readonly { oldOid: string; newOid: string; ref: string }[],
  defaultBranch: { ref: string; commit: string } | null,
  trustedRefs: readonly string[],
): AllowlistSource {
  const fallback = defaultBranch !== null && isTrustedBranch(defaultBranch.ref, trustedRefs) && !isZero(defaultBranch.commit) ? defaultBranch : null;
  const sources = new Map<string, string>();
  let untrusted = false;
  for (const update of updates) {
    if (isZero(update.newOid)) continue;
    if (isTrustedBranch(update.ref, trustedRefs) && !isZero(update.oldOid)) sources.set(update.oldOid, update.ref);
    else if (fallback !== null) sources.set(fallback.commit, fallback.ref);
    else untrusted = true;
  }
  if (sources.size === 1 && !untrusted) {
    const [[commit, ref]] = [...sources];
    return { commit: commit!, ref: ref! };
  }
  if (sources.size === 0) return { commit: null };
  return { commit: null, note: 'the push updates refs whose allowlists would come from different places, so only the server\'s allowlist applies; push them separately to use the repository allowlist' };
}

/** Whether chooseAllowlistSource needs the default branch for these updates (it costs a git process to read it exactly). */
export function needsDefaultBranch(updates: readonly { oldOid: string; newOid: string; ref: string }[], trustedRefs: readonly string[]): boolean {
  return updates.some((u) => !isZero(u.newOid) && !(isTrustedBranch(u.ref, trustedRefs) && !isZero(u.oldOid)));
}

function isZero(oid: string): boolean {
  return /^0+$/.test(oid);
}

/**
 * The updates of trusted branches whose allowlist file must be compared
 * before and after: its blob at `commit` against its blob at `base` (the
 * branch's old value; for a new branch the default branch, when trusted;
 * else nothing). A file that differs parks (ALLOWLIST_CHANGE_RULE) however
 * it arrives — a new commit, a fast-forward or merge bringing an older
 * commit from any other ref, a branch created from one. Removing it does not.
 */
export function trustedUpdates(
  updates: readonly { oldOid: string; newOid: string; ref: string }[],
  defaultBranch: { ref: string; commit: string } | null,
  trustedRefs: readonly string[],
): { ref: string; commit: string; base: string | null }[] {
  const fallback = defaultBranch !== null && isTrustedBranch(defaultBranch.ref, trustedRefs) ? defaultBranch.commit : null;
  return updates
    .filter((u) => !isZero(u.newOid) && isTrustedBranch(u.ref, trustedRefs))
    .map((u) => ({ ref: u.ref, commit: u.newOid, base: isZero(u.oldOid) ? fallback : u.oldOid }));
}

/** The finding for a trusted branch whose allowlist file a push changes. */
export function allowlistChangeFinding(ref: string, commit: string, path: string): Finding {
  return {
    ruleId: ALLOWLIST_CHANGE_RULE.id, title: `${ALLOWLIST_CHANGE_RULE.title} on a trusted branch`, action: 'park', mode: 'enforce', ref, commit, path, fix: ALLOWLIST_CHANGE_RULE.fix,
  };
}
