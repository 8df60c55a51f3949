import { GENESIS, hashRecord, parseRecordLine, serializeRecord } from './record.js';
import { readLines } from './lines.js';
import type { AuditRecord } from './types.js';

export type BreakReason =
  | 'unparsable'
  | 'not-canonical'
  | 'hash-mismatch'
  | 'prev-mismatch'
  | 'seq-gap'
  | 'reordered'
  | 'torn-line'
  | 'anchor-missing'
  | 'anchor-mismatch'
  | 'unreadable';

export interface ChainBreak {
  file: string;
  /** 1-based; 0 when the problem is not at one line. */
  line: number;
  /** The broken record's own seq, when it could be read. */
  seq?: number;
  reason: BreakReason;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  files: number;
  records: number;
  /** Observations that do not break the chain (a crash artefact, a log that starts after genesis). */
  notes: string[];
  /** The first broken record. */
  broken?: ChainBreak;
  /** The last record checked. */
  head?: { file: string; seq: number; hash: string; time: string };
}

/** A record noted earlier (its hash, and its seq when known) that must still be in the chain. */
export interface Anchor {
  hash: string;
  seq?: number;
}

export interface VerifyOptions {
  /** The HMAC key the log was written with; null for plain SHA-256. */
  key: Buffer | null;
  /** Records noted elsewhere earlier (a hash, or an Anchor); each must occur in the chain. */
  anchors?: (string | Anchor)[];
}

const ANCHOR = /^(?:(\d{1,15}):)?([0-9a-f]{64})$/;

/** `SEQ:HASH` or `HASH` (as `audit verify` prints a head and `--anchor-file` keeps it); undefined when it is neither. */
export function parseAnchor(text: string): Anchor | undefined {
  const match = ANCHOR.exec(text.trim());
  if (match === null) return undefined;
  return match[1] === undefined ? { hash: match[2]! } : { hash: match[2]!, seq: Number(match[1]) };
}

/** The form parseAnchor reads. */
export function formatAnchor(head: { seq: number; hash: string }): string {
  return `${head.seq}:${head.hash}`;
}

/** Whether `seq` occurs on a later line of `file`: tells a reordering from a removal. */
async function seqLater(file: string, after: number, seq: number): Promise<boolean> {
  for await (const line of readLines(file)) {
    if (line.number <= after) continue;
    const parsed = parseRecordLine(line.text);
    if ('record' in parsed && parsed.record.seq === seq) return true;
  }
  return false;
}

function keyHint(key: Buffer | null): string {
  return key === null
    ? ' (if this log is HMAC-chained, give the key: audit.hmacKeyFile or --key-file)'
    : ' (or the log was not written with this HMAC key)';
}

/**
 * Checks that `files`, oldest first, form one unbroken chain: every line a
 * record in the form pushgate writes, every hash recomputes, seq counts from
 * 1 in each file, every prev is the hash before it. Stops at the first break.
 *
 * A last line without a newline at the very end of the last file is what a
 * writer killed mid-write leaves; the next append removes it, so it is noted,
 * not a break. Anywhere else a line always ends with a newline.
 */
export async function verifyChain(files: string[], options: VerifyOptions): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, files: files.length, records: 0, notes: [] };
  const anchors = new Map((options.anchors ?? []).map((a) => (typeof a === 'string' ? { hash: a } : a)).map((a) => [a.hash, a]));
  let prev: string | null = null;
  const fail = (broken: ChainBreak): VerifyResult => ({ ...result, ok: false, broken });

  for (const [index, file] of files.entries()) {
    const lastFile = index === files.length - 1;
    let expectedSeq = 1;
    try {
      for await (const line of readLines(file)) {
        const at = { file, line: line.number };
        if (!line.terminated) {
          if (lastFile) {
            result.notes.push(`${file}:${line.number}: an unfinished last line (a writer stopped mid-write) is ignored; the next append removes it`);
            break;
          }
          return fail({ ...at, reason: 'torn-line', message: 'the last line of a file that has a successor has no newline' });
        }
        const parsed = parseRecordLine(line.text);
        if ('error' in parsed) return fail({ ...at, reason: 'unparsable', message: `not an audit record: ${parsed.error}` });
        const record: AuditRecord = parsed.record;
        const seqAt = { ...at, seq: record.seq };
        if (serializeRecord(record) !== line.text) {
          return fail({ ...seqAt, reason: 'not-canonical', message: 'the line is not as pushgate writes it (fields added, removed, reordered or reformatted)' });
        }
        if (hashRecord(record, options.key) !== record.hash) {
          const hint = result.records === 0 ? keyHint(options.key) : '';
          return fail({ ...seqAt, reason: 'hash-mismatch', message: `the record's content does not match its hash: it was changed${hint}` });
        }
        if (record.seq !== expectedSeq) {
          if (record.seq > expectedSeq && !(await seqLater(file, line.number, expectedSeq))) {
            return fail({ ...seqAt, reason: 'seq-gap', message: `expected seq ${expectedSeq}, found ${record.seq}: ${record.seq - expectedSeq} record(s) before this one were removed` });
          }
          return fail({ ...seqAt, reason: 'reordered', message: `expected seq ${expectedSeq}, found ${record.seq}: records were moved` });
        }
        if (prev === null) {
          if (record.prev !== GENESIS) result.notes.push(`${file}:${line.number}: the chain starts after genesis (older files were removed or not given)`);
        } else if (record.prev !== prev) {
          const where = expectedSeq === 1 ? `the last record of ${files[index - 1]}` : 'the record before it';
          return fail({ ...seqAt, reason: 'prev-mismatch', message: `prev does not match the hash of ${where}: a record was removed or replaced` });
        }
        prev = record.hash;
        const anchor = anchors.get(record.hash);
        if (anchor !== undefined) {
          if (anchor.seq !== undefined && anchor.seq !== record.seq) {
            return fail({ ...seqAt, reason: 'anchor-mismatch', message: `the anchored record ${anchor.hash} was seq ${anchor.seq} and is now seq ${record.seq}: records before it were removed or added` });
          }
          anchors.delete(record.hash);
        }
        expectedSeq++;
        result.records++;
        result.head = { file, seq: record.seq, hash: record.hash, time: record.time };
      }
    } catch (error) {
      return fail({ file, line: 0, reason: 'unreadable', message: (error as Error).message });
    }
  }
  const missing = [...anchors.values()];
  if (missing.length > 0) {
    const which = missing[0]!.seq === undefined ? missing[0]!.hash : `${missing[0]!.hash} (seq ${missing[0]!.seq})`;
    const head = result.head === undefined ? 'the log holds no records' : `the chain now ends at seq ${result.head.seq}`;
    return fail({ file: files.at(-1) ?? '', line: 0, reason: 'anchor-missing', message: `the anchored record ${which} is not in the chain (${head}): records were removed from the end, or the chain was rewritten` });
  }
  return result;
}
