import { logFiles, rotatedAt } from './files.js';
import { readLines } from './lines.js';
import { parseRecordLine } from './record.js';
import type { AuditRecord } from './types.js';

export interface RecordFilter {
  session?: string;
  /** Matches the acting identity or the reviewer. */
  principal?: string;
  repository?: string;
  queueId?: string;
  /** `queue.approve` exactly, or `queue` / `queue.*` for every queue event. */
  type?: string;
  since?: Date;
  until?: Date;
}

/** `team/app`, `/team/app.git` and `team/app.git` name the same repository. */
export function repositoryKey(name: string): string {
  return name.replace(/^[/~]+/, '').replace(/\.git$/, '').replace(/\/+$/, '');
}

function typeMatches(pattern: string, type: string): boolean {
  const area = pattern.endsWith('.*') ? pattern.slice(0, -2) : pattern;
  return type === pattern || type.startsWith(`${area}.`);
}

export function matches(record: AuditRecord, filter: RecordFilter): boolean {
  if (filter.session !== undefined && record.session !== filter.session) return false;
  if (filter.principal !== undefined && record.identity?.principal !== filter.principal && record.reviewer?.principal !== filter.principal) return false;
  if (filter.repository !== undefined && (record.repository === undefined || repositoryKey(record.repository) !== repositoryKey(filter.repository))) return false;
  if (filter.queueId !== undefined && record.queueId !== filter.queueId) return false;
  if (filter.type !== undefined && !typeMatches(filter.type, record.type)) return false;
  const time = Date.parse(record.time);
  if (filter.since !== undefined && time < filter.since.getTime()) return false;
  if (filter.until !== undefined && time > filter.until.getTime()) return false;
  return true;
}

export interface ReadStats {
  /** Lines that are not records (a torn last line, damage): `verify` says more. */
  skipped: number;
}

/**
 * The records of the log whose current file is `file` (rotated files first)
 * that pass `filter`. Files rotated before `since` are not opened: every
 * record in them is older than the time in their name.
 */
export async function* queryRecords(files: string[] | string, filter: RecordFilter = {}, stats: ReadStats = { skipped: 0 }): AsyncGenerator<AuditRecord> {
  const list = typeof files === 'string' ? logFiles(files) : files;
  const current = typeof files === 'string' ? files : undefined;
  for (const file of list) {
    const rotated = current === undefined ? undefined : rotatedAt(file, current);
    if (filter.since !== undefined && rotated !== undefined && rotated < filter.since) continue;
    for await (const line of readLines(file)) {
      const parsed = parseRecordLine(line.text);
      if ('error' in parsed) {
        stats.skipped++;
        continue;
      }
      if (matches(parsed.record, filter)) yield parsed.record;
    }
  }
}
