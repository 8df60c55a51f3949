import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError } from './errors.js';
import { rotatedFiles, rotatedName } from './files.js';
import { DEFAULT_LOCK_OPTIONS, FileLock, type LockOptions } from './lock.js';
import { chainRecord, GENESIS, parseRecordLine, serializeRecord } from './record.js';
import { readTail } from './tail.js';
import type { AuditEventInput } from './types.js';

export interface AppendOptions {
  file: string;
  key: Buffer | null;
  rotate: { size: number | null; daily: boolean };
  lock?: LockOptions;
  now?: () => Date;
}

interface ChainEnd {
  seq: number;
  hash: string;
  time: string;
}

const FILE_MODE = 0o640;

function chainEnd(lastLine: string | null, file: string): ChainEnd | null {
  if (lastLine === null) return null;
  const parsed = parseRecordLine(lastLine);
  if ('error' in parsed) {
    throw new AuditError('audit.corrupt-tail', `${file} ends with a line that is not an audit record (${parsed.error}); nothing can be chained to it: run \`pushgate audit verify\` and move the file aside`);
  }
  return { seq: parsed.record.seq, hash: parsed.record.hash, time: parsed.record.time };
}

/** The hash a new, empty file chains from: the end of the newest rotated file, or genesis. */
function rotatedChainEnd(file: string): string {
  const rotated = rotatedFiles(file).at(-1);
  if (rotated === undefined) return GENESIS;
  const fd = openSync(rotated, 'r');
  try {
    return chainEnd(readTail(fd, fstatSync(fd).size).lastLine, rotated)?.hash ?? GENESIS;
  } finally {
    closeSync(fd);
  }
}

function syncDir(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function render(events: AuditEventInput[], start: { seq: number; prev: string }, time: string, key: Buffer | null): string[] {
  let { seq, prev } = start;
  return events.map((event) => {
    const record = chainRecord(event, { time, seq: ++seq, prev }, key);
    prev = record.hash;
    return serializeRecord(record);
  });
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
}

/**
 * One append under the lock; null when the lock was lost before anything was
 * written. Synchronous on purpose: the lock is held for one uninterrupted run
 * of system calls, not across event-loop turns that a busy machine stretches.
 */
function appendLocked(events: AuditEventInput[], options: AppendOptions, lock: FileLock): string[] | null {
  const { file, key, rotate } = options;
  let fd = openSync(file, 'a+', FILE_MODE);
  try {
    const size = fstatSync(fd).size;
    const tail = readTail(fd, size);
    if (tail.end < size) {
      // A writer died mid-line. Its record() never resolved, so no caller was told it exists.
      if (!lock.held()) return null;
      ftruncateSync(fd, tail.end);
    }
    const last = chainEnd(tail.lastLine, file);
    const now = (options.now ?? (() => new Date()))();
    const time = now.toISOString();
    let start = last === null ? { seq: 0, prev: rotatedChainEnd(file) } : { seq: last.seq, prev: last.hash };
    let lines = render(events, start, time, key);
    const bytes = lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
    const bySize = rotate.size !== null && tail.end > 0 && tail.end + bytes > rotate.size;
    const byDay = rotate.daily && last !== null && last.time.slice(0, 10) !== time.slice(0, 10);
    if (last !== null && (bySize || byDay)) {
      if (!lock.held()) return null;
      closeSync(fd);
      fd = -1;
      renameSync(file, rotatedName(file, now));
      fd = openSync(file, 'a+', FILE_MODE);
      syncDir(file);
      start = { seq: 0, prev: last.hash };
      lines = render(events, start, time, key);
    }
    if (!lock.held()) return null;
    writeAll(fd, Buffer.from(`${lines.join('\n')}\n`));
    fdatasyncSync(fd);
    if (size === 0) syncDir(file);
    return lines;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Appends `events` to the log as consecutive records, under the lock, with one
 * write and one fsync; rotates first when the file is due. Resolves to the
 * lines written.
 */
export async function appendEvents(events: AuditEventInput[], options: AppendOptions): Promise<string[]> {
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o750 });
  for (;;) {
    const lock = await FileLock.acquire(`${options.file}.lock`, options.lock ?? DEFAULT_LOCK_OPTIONS);
    try {
      const lines = appendLocked(events, options, lock);
      if (lines !== null) return lines;
    } finally {
      lock.release();
    }
  }
}
