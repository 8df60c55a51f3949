import { minimatch } from 'minimatch';
import type { PolicyConfig } from '../config/index.js';
import type { FileEvent, LineEvent } from '../git/index.js';
import type { SecretFinding, SecretScanner } from '../scan/index.js';
import type { Finding } from './types.js';

export const LIMIT_RULES = {
  blobSize: { id: 'limit.blob-size', title: 'file larger than the size limit', fix: 'Keep large files out of the repository (Git LFS or an artifact store), or ask a reviewer to accept it.' },
  changedFiles: { id: 'limit.changed-files', title: 'push changes more files than the limit', fix: 'Split the change into smaller pushes, or wait for a reviewer.' },
  deletedFiles: { id: 'limit.deleted-files', title: 'push deletes more files than the limit (mass deletion)', fix: 'Check that the deletions are intended; a reviewer must accept them.' },
} as const;

const PATH_CACHE_LIMIT = 4096;

const SECRET_FILE_FIX = 'Remove the file from the commits (git rm --cached, rewrite the unpushed commits) and rotate what it held.';

function globMatch(path: string, pattern: string): boolean {
  return minimatch(path, pattern, { dot: true, matchBase: !pattern.includes('/') });
}

/**
 * Turns the diff events of a push into findings: sensitive paths, secret file
 * names, secrets in added lines, and the size and count limits. Pure: the
 * caller feeds it events in order and reads the findings at the end.
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
  private scansPath(path: string): boolean {
    if (!this.policy.secrets.enabled) return false;
    let scans = this.scanned.get(path);
    if (scans === undefined) {
      scans = !this.skipPaths.some((p) => globMatch(path, p));
      if (this.scanned.size >= PATH_CACHE_LIMIT) this.scanned.clear();
      this.scanned.set(path, scans);
    }
    return scans;
  }

  file(event: FileEvent): void {
    this.changed.add(event.path);
    if (event.status === 'deleted') {
      this.deleted.add(event.path);
      return;
    }
    for (const group of this.policy.paths) {
      if (group.patterns.some((p) => globMatch(event.path, p))) {
        this.add(`path.${group.name}\0${event.path}`, {
          ruleId: `path.${group.name}`, title: `change to a sensitive path (${group.name})`, action: group.action, mode: 'enforce',
          commit: event.commit, path: event.path, fix: 'Changes here need a reviewer: wait for approval, or leave this path out of the push.',
        });
      }
    }
    if (this.scansPath(event.path)) {
      const named = this.scanner.scanPath(event.path);
      if (named) this.secret(named, event.commit, SECRET_FILE_FIX);
    }
  }

  line(event: LineEvent): void {
    if (!this.scansPath(event.path)) return;
    for (const found of this.scanner.scanLine(event.path, event.line, event.text)) this.secret(found, event.commit);
  }

  private secret(found: SecretFinding, commit: string, fix = found.fix): void {
    this.add(`${found.ruleId}\0${found.fingerprint}\0${found.path}`, {
      ruleId: found.ruleId, title: found.title, action: this.policy.secrets.action, mode: 'enforce', commit, path: found.path,
      ...(found.line > 0 ? { line: found.line } : {}), excerpt: found.masked, fingerprint: found.fingerprint, fix,
      ...(found.encoded ? { note: `found ${found.encoded}-encoded` } : {}), inlineAllow: found.inlineAllow,
    });
  }

  /** A blob's size, from `git cat-file --batch-check`. */
  blob(path: string, commit: string, size: number): void {
    const limit = this.policy.limits.blobSize;
    if (limit === null || size <= limit) return;
    this.add(`${LIMIT_RULES.blobSize.id}\0${path}`, {
      ruleId: LIMIT_RULES.blobSize.id, title: `${LIMIT_RULES.blobSize.title} (${size} bytes > ${limit})`, action: this.policy.limits.action,
      mode: 'enforce', commit, path, fix: LIMIT_RULES.blobSize.fix,
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
