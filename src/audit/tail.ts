import { readSync } from 'node:fs';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export interface Tail {
  /** Byte offset just past the last newline: everything after it is a torn line. */
  end: number;
  /** The last complete line, without its newline; null when there is none. */
  lastLine: string | null;
}

/** Offset just past the last newline at or before `before`, or 0; reads backwards in chunks. */
function newlineBefore(fd: number, before: number): number {
  let pos = before;
  const buf = Buffer.alloc(Math.min(CHUNK, before));
  while (pos > 0) {
    const start = Math.max(0, pos - CHUNK);
    const bytesRead = readSync(fd, buf, 0, pos - start, start);
    const at = buf.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (at >= 0) return start + at + 1;
    pos = start;
  }
  return 0;
}

/** Finds the last complete line of a file of `size` bytes without reading the rest of it. */
export function readTail(fd: number, size: number): Tail {
  const end = newlineBefore(fd, size);
  if (end === 0) return { end, lastLine: null };
  const start = newlineBefore(fd, end - 1);
  const line = Buffer.alloc(end - 1 - start);
  if (line.length > 0) readSync(fd, line, 0, line.length, start);
  return { end, lastLine: line.toString('utf8') };
}
