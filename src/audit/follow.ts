import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { rotatedFiles } from './files.js';

const CHUNK = 64 * 1024;

/** The last `count` complete lines of `file`, and the offset just past them. */
async function lastLinesOf(file: string, count: number): Promise<{ lines: string[]; end: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch {
    return { lines: [], end: 0 };
  }
  try {
    const size = (await handle.stat()).size;
    let pos = size;
    let data = Buffer.alloc(0);
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const chunk = Buffer.alloc(pos - start);
      await handle.read(chunk, 0, chunk.length, start);
      data = Buffer.concat([chunk, data]);
      pos = start;
      let newlines = 0;
      for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) newlines++;
      if (newlines > count) break;
    }
    const end = data.lastIndexOf(0x0a) + 1;
    const lines = data.subarray(0, end).toString('utf8').split('\n').slice(0, -1);
    // The first piece may be cut when the read stopped mid-file.
    if (pos > 0) lines.shift();
    return { lines: lines.slice(-count), end: pos + end };
  } finally {
    await handle.close();
  }
}

/** The last `count` lines of the log (reaching into rotated files), and where the current file's complete lines end. */
export async function lastLines(file: string, count: number): Promise<{ lines: string[]; end: number }> {
  const current = await lastLinesOf(file, count);
  const lines = [...current.lines];
  const rotated = rotatedFiles(file);
  while (lines.length < count && rotated.length > 0) {
    lines.unshift(...(await lastLinesOf(rotated.pop()!, count - lines.length)).lines);
  }
  return { lines, end: current.end };
}

/**
 * After the followed file was rotated away (it had inode `left`), passes on
 * the files rotated after it, up to the file now open (inode `opened`): the
 * log may have rotated more than once between two polls.
 */
async function readRotatedSince(file: string, left: number, opened: number, onLine: (line: string) => void): Promise<void> {
  const rotated = await Promise.all(rotatedFiles(file).map(async (path) => ({ path, ino: (await stat(path).catch(() => undefined))?.ino })));
  const from = rotated.findIndex((r) => r.ino === left);
  if (from < 0) return;
  for (const { path, ino } of rotated.slice(from + 1)) {
    if (ino === opened) return;
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(0, -1)) onLine(line);
  }
}

export interface FollowOptions {
  /** Offset in the current file to start from; its end by default. */
  from?: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Calls `onLine` for every complete line appended to the log, until `signal`
 * aborts. Polls, so it works on every file system; when the file is rotated
 * it finishes the old one and continues with the new one. Only complete
 * lines are passed on: a line still being written, or torn by a crash and
 * later cut off, is read again from its start.
 */
export async function followLog(file: string, onLine: (line: string) => void, options: FollowOptions = {}): Promise<void> {
  const interval = options.intervalMs ?? 200;
  let handle: FileHandle | undefined;
  let ino = -1;
  let pos = 0;

  const drain = async (): Promise<void> => {
    if (handle === undefined) return;
    const size = (await handle.stat()).size;
    if (size < pos) pos = size;
    if (pos === size) return;
    const buf = Buffer.alloc(size - pos);
    const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
    const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    for (const line of buf.subarray(0, end - 1).toString('utf8').split('\n')) onLine(line);
    pos += end;
  };

  try {
    const initial = await stat(file).catch(() => undefined);
    if (initial !== undefined) {
      handle = await open(file, 'r');
      ino = initial.ino;
      pos = options.from ?? initial.size;
    }
    while (!options.signal?.aborted) {
      await drain();
      const now = await stat(file).catch(() => undefined);
      if (now !== undefined && now.ino !== ino) {
        await drain();
        await handle?.close();
        handle = await open(file, 'r');
        const previous = ino;
        ino = (await handle.stat()).ino;
        pos = 0;
        if (previous !== -1) await readRotatedSince(file, previous, ino, onLine);
        continue;
      }
      await sleep(interval, undefined, { signal: options.signal }).catch(() => undefined);
    }
  } finally {
    await handle?.close();
  }
}
