import { minimatch } from 'minimatch';
import type { PolicyConfig } from '../config/index.js';
import type { FileEvent, LineEvent } from '../git/index.js';
import type { SecretFinding, SecretScanner } from '../scan/index.js';
import { maskLine } from '../scan/mask.js';
import { lineMayHoldSecret } from '../scan/scanner.js';
import { ALLOWLIST_CHANGE_RULE, isAllowlistPath } from './allowlist.js';
import type { Finding } from './types.js';

export const LIMIT_RULES = {
  blobSize: { id: 'limit.blob-size', title: 'file larger than the size limit', fix: 'Keep large files out of the repository (Git LFS or an artifact store), or ask a reviewer to accept it.' },
  changedFiles: { id: 'limit.changed-files', title: 'push changes more files than the limit', fix: 'Split the change into smaller pushes, or wait for a reviewer.' },
  deletedFiles: { id: 'limit.deleted-files', title: 'push deletes more files than the limit (mass deletion)', fix: 'Check that the deletions are intended; a reviewer must accept them.' },
} as const;

const PATH_CACHE_LIMIT = 4096;

const SECRET_FILE_FIX = 'Remove the file from the commits (git rm --cached, rewrite the unpushed commits) and rotate what it held.';

/**
 * Where text that is not a line of a diff comes from: the object it is in
 * (a commit, an annotated tag, a blob) and a path. `pseudo` paths name
 * text that is no file — `(commit message)`, `(tag annotation)`,
 * `(ref name)` — and are never matched by path allowlists or path rules.
 */
export interface TextSource {
  object: string;
  path: string;
  pseudo: boolean;
}

const NAME_NOTE = 'found in a file or directory name';

/**
 * The prefilter's cheap first look, as the diff's lines get it: most names
 * and texts hold no keyword at all, and the scanner's own prefilter would
 * build its full automaton for them.
 */
function mayHoldSecret(text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  return lineMayHoldSecret(bytes, 0, bytes.length);
}

function globMatch(path: string, pattern: string): boolean {
  return minimatch(path, pattern, { dot: true, matchBase: !pattern.includes('/') });
}

/**
 * Turns the content of a push into findings: sensitive paths, secret file
 * names, secrets in added lines, in file and directory names, in whole
 * objects the diff does not show line by line (text(): binary files, trees
 * and tags pushed to any ref, commit messages, tag annotations), changes to
 * the allowlist file, and the size and count limits. Pure: the caller feeds
 * it what it reads and takes the findings at the end.
 */
export class ContentChecker {
  private readonly findings: Finding[] = [];
  private readonly seen = new Set<string>();
  private readonly changed = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly skipPaths: readonly string[];
  private readonly scanned = new Map<string, boolean>();

  constructor(
    private readonly policy: PolicyConfig,
    private readonly scanner: SecretScanner,
    allowlistPaths: readonly string[] = [],
  ) {
    this.skipPaths = [...policy.allowlist.paths, ...allowlistPaths];
  }

  private add(key: string, finding: Finding): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push(finding);
  }

  /** Asked for every candidate line: the glob matching is done once per path. */
  scansPath(path: string): boolean {
    if (!this.policy.secrets.enabled) return false;
    let scans = this.scanned.get(path);
    if (scans === undefined) {
      scans = !this.skipPaths.some((p) => globMatch(path, p));
      if (this.scanned.size >= PATH_CACHE_LIMIT) this.scanned.clear();
      this.scanned.set(path, scans);
    }
    return scans;
  }

  /**
   * A file a commit changes (or, for objects no diff shows, a blob found in
   * a pushed tree). Returns whether its added lines are scanned, so that the
   * caller knows which blobs still need reading whole.
   */
  file(event: Pick<FileEvent, 'commit' | 'path' | 'status'> & { binary?: boolean }): boolean {
    this.changed.add(event.path);
    if (event.status === 'deleted') {
      this.deleted.add(event.path);
      return false;
    }
    for (const group of this.policy.paths) {
      if (group.patterns.some((p) => globMatch(event.path, p))) {
        this.add(`path.${group.name}\0${event.path}`, {
          ruleId: `path.${group.name}`, title: `change to a sensitive path (${group.name})`, action: group.action, mode: 'enforce',
          commit: event.commit, path: event.path, fix: 'Changes here need a reviewer: wait for approval, or leave this path out of the push.',
        });
      }
    }
    if (isAllowlistPath(event.path, this.policy.allowlist.repoFile)) {
      this.add(`${ALLOWLIST_CHANGE_RULE.id}\0${event.path}`, {
        ruleId: ALLOWLIST_CHANGE_RULE.id, title: ALLOWLIST_CHANGE_RULE.title, action: 'park', mode: 'enforce', commit: event.commit, path: event.path, fix: ALLOWLIST_CHANGE_RULE.fix,
      });
    }
    if (!this.scansPath(event.path)) return false;
    const named = this.scanner.scanPath(event.path);
    // A name like `.env` is reported; it decides only when no line of the content could be read.
    if (named) this.secret(named, event.commit, SECRET_FILE_FIX, undefined, named.decides === 'unreadable' && event.binary !== true ? 'audit' : 'enforce');
    this.name(event.path, event.commit);
    return true;
  }

  /** A file or directory name (a path, or one entry of a tree) scanned as text; the finding shows the path masked. */
  name(path: string, commit: string): void {
    if (!this.scansPath(path) || !mayHoldSecret(path)) return;
    const found = this.scanner.scanLine(path, 0, path);
    if (found.length === 0) return;
    const masked = maskLine(path, found);
    for (const hit of found) this.secret({ ...hit, path: masked }, commit, hit.fix, NAME_NOTE);
  }

  /**
   * One line or printable run of text that no diff showed: a blob read
   * whole, a commit message, a tag annotation, a ref name. Pseudo paths are
   * scanned whatever the path allowlists say.
   */
  text(source: TextSource, line: number, text: string): void {
    if (source.pseudo ? !this.policy.secrets.enabled : !this.scansPath(source.path)) return;
    if (!mayHoldSecret(text)) return;
    for (const found of this.scanner.scanLine(source.path, line, text)) this.secret(found, source.object);
  }

  line(event: LineEvent): void {
    if (!this.scansPath(event.path)) return;
    for (const found of this.scanner.scanLine(event.path, event.line, event.text)) this.secret(found, event.commit);
  }

  private secret(found: SecretFinding, commit: string, fix = found.fix, where?: string, mode: 'audit' | 'enforce' = 'enforce'): void {
    const notes = [...(where ? [where] : []), ...(found.encoded ? [`found ${found.encoded}-encoded`] : [])];
    if (mode === 'audit') notes.push('reported for its name; the content rules decide');
    const key = `${found.ruleId}\0${found.fingerprint}\0${found.path}`;
    // The same name seen again where its content could not be read: now it decides.
    const earlier = mode === 'enforce' && this.seen.has(key) ? this.findings.find((f) => f.mode === 'audit' && f.ruleId === found.ruleId && f.fingerprint === found.fingerprint && f.path === found.path) : undefined;
    if (earlier !== undefined) {
      earlier.mode = 'enforce';
      delete earlier.note;
    }
    this.add(key, {
      ruleId: found.ruleId, title: found.title, action: this.policy.secrets.action, mode, ...(commit ? { commit } : {}), path: found.path,
      ...(found.line > 0 ? { line: found.line } : {}), excerpt: found.masked, fingerprint: found.fingerprint, fix,
      ...(notes.length > 0 ? { note: notes.join('; ') } : {}), inlineAllow: found.inlineAllow,
    });
  }

  /** A blob's size, from `git cat-file --batch-check`; `commit` is empty for a blob no new commit holds. */
  blob(path: string, commit: string, size: number): void {
    const limit = this.policy.limits.blobSize;
    if (limit === null || size <= limit) return;
    this.add(`${LIMIT_RULES.blobSize.id}\0${path}`, {
      ruleId: LIMIT_RULES.blobSize.id, title: `${LIMIT_RULES.blobSize.title} (${size} bytes > ${limit})`, action: this.policy.limits.action,
      mode: 'enforce', ...(commit ? { commit } : {}), path, fix: LIMIT_RULES.blobSize.fix,
    });
  }

  finish(): Finding[] {
    const { changedFiles, deletedFiles, action } = this.policy.limits;
    if (changedFiles !== null && this.changed.size > changedFiles) {
      this.findings.push({ ruleId: LIMIT_RULES.changedFiles.id, title: `${LIMIT_RULES.changedFiles.title} (${this.changed.size} > ${changedFiles})`, action, mode: 'enforce', fix: LIMIT_RULES.changedFiles.fix });
    }
    if (deletedFiles !== null && this.deleted.size > deletedFiles) {
      this.findings.push({ ruleId: LIMIT_RULES.deletedFiles.id, title: `${LIMIT_RULES.deletedFiles.title} (${this.deleted.size} > ${deletedFiles})`, action, mode: 'enforce', fix: LIMIT_RULES.deletedFiles.fix });
    }
    return this.findings;
  }
}
