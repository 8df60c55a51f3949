import { closeSync, constants, fstat, ftruncate, mkdtempSync, openSync, readSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { GitError } from './errors.js';

/** Bytes asked for per read. */
const READ_BYTES = 256 * 1024;
/**
 * What emptying the file keeps of it. ext4 writes out on close a file that was
 * truncated to zero length and written again (its guard against replacing a
 * file's content through truncation), even an unlinked one: about 50 MB of
 * disk writes per large push. A file cut to one byte is not treated so.
 */
const KEPT_BYTES = 1;
/** Longest wait between two looks at a file that has not grown, while its writer runs. */
const MAX_POLL_MS = 8;

/**
 * A child's stdout spooled through an unlinked temporary file instead of a
 * pipe. Node's stdio pipes are socket pairs of about 200 KB: git stops
 * whenever they are full and is woken only when the reader has emptied most
 * of it, so with the reader busy scanning one git's output and two git
 * processes sharing two CPUs with it, about a third of the CPU time went idle.
 * A file never makes the writer wait; the reader follows it at its own pace,
 * and the writer's pace is held by what it is given to do (see DiffPart).
 *
 * The file is opened for appending, so it can be emptied while the writer
 * waits (`truncate`), and unlinked at once: nothing is left behind, whatever
 * happens to this process.
 */
export class Spool {
  readonly fd: number;
  /** Where the next read starts. */
  private position = 0;
  /** Where the bytes written since the file was last emptied start. */
  private start = 0;
  private exited = false;
  private wake: (() => void) | undefined;
  /** Read into again and again: fresh pages for every read cost more than the copy itself. */
  private readonly buffer = Buffer.allocUnsafe(READ_BYTES);
  private closed = false;

  constructor() {
    const base = tmpdir();
    const unwritable = (error: unknown): GitError =>
      new GitError('git.spool', `could not create a temporary file in ${base} for git's output (${(error as Error).message}); set TMPDIR to a writable directory`);
    let dir: string;
    try {
      dir = mkdtempSync(join(base, 'pushgate-'));
    } catch (error) {
      throw unwritable(error);
    }
    const path = join(dir, 'output');
    try {
      this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600);
    } catch (error) {
      throw unwritable(error);
    } finally {
      try {
        unlinkSync(path);
      } catch {
        // Not created: nothing to remove.
      }
      rmdirSync(dir);
    }
  }

  /** Bytes read since the file was last emptied. */
  get readSinceEmptied(): number {
    return this.position - this.start;
  }

  /** The writer: once it has exited, a read that finds nothing means the end. */
  follow(child: ChildProcess): void {
    const done = (): void => {
      this.exited = true;
      this.wake?.();
    };
    child.once('exit', done);
    child.once('error', done);
  }

  /**
   * The next bytes the writer has written, or null once it has exited and
   * everything is read. The bytes are valid until the next call: copy what
   * must outlive it.
   */
  async read(): Promise<Buffer | null> {
    const buffer = this.buffer;
    for (let delay = 1; ; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      // Sampled before reading: bytes written before the exit are then certainly seen by this read.
      const exited = this.exited;
      // A regular file answers at once with what it holds: read here, since a
      // read handed to libuv's thread pool cost twice the CPU time. The wait
      // for the next turn of the event loop lets the rest of the hook (git's
      // exit, the blob sizes) go on between reads.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const bytes = readSync(this.fd, buffer, 0, buffer.length, this.position);
      if (bytes > 0) {
        this.position += bytes;
        return buffer.subarray(0, bytes);
      }
      if (exited) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          resolve();
        }, delay);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  /**
   * Empties the file. Only while the writer waits and everything it wrote
   * has been read: a file longer than what was read means it has not, and
   * nothing is thrown away.
   */
  async truncate(): Promise<void> {
    const size = await new Promise<number>((resolve, reject) => fstat(this.fd, (error, stats) => (error ? reject(error) : resolve(stats.size))));
    if (size !== this.position) throw new GitError('git.spool', `git's output grew while it was to wait (${size} bytes written, ${this.position} read)`);
    await new Promise<void>((resolve, reject) => ftruncate(this.fd, KEPT_BYTES, (error) => (error ? reject(error) : resolve())));
    this.position = KEPT_BYTES;
    this.start = KEPT_BYTES;
  }

  /** Call once no read is under way: a closed descriptor's number can be reused by the next file opened. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** The last PATH looked through, and what was found there. */
let lookedUp: { path: string; found: string | null } | undefined;

/**
 * `stdbuf`, where coreutils has one on the PATH. git writes its output
 * through stdio, whose buffer on a file or pipe is 4 KiB: one write per 4 KiB.
 * Run under `stdbuf -o 256K` it writes 64 times less often, which on a large
 * push saves about a tenth of its time. Without it git runs as it is.
 */
export function stdbufPath(env: NodeJS.ProcessEnv = process.env): string | null {
  const path = env.PATH ?? '';
  if (lookedUp?.path === path) return lookedUp.found;
  let found: string | null = null;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'stdbuf');
    try {
      if (statSync(candidate).isFile()) {
        found = candidate;
        break;
      }
    } catch {
      // Not in this directory.
    }
  }
  lookedUp = { path, found };
  return found;
}
