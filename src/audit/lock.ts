import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditError } from './errors.js';

/*
 * Appends from many processes are serialised by a lock file next to the log.
 *
 * Node has no flock()/fcntl() without a native addon, and spawning flock(1)
 * per record costs more than the append. So the lock is a symbolic link
 * created with symlink(2): creation is atomic and fails with EEXIST when the
 * link exists (also on NFS), and the link's target carries the owner
 * (host, pid namespace, pid, process start time, time, nonce) in the same
 * system call, so a lock is never seen without its owner (unlike
 * open(O_EXCL) followed by write).
 *
 * A lock whose owner died is stale: on the same host and pid namespace, the
 * owner's process is gone, a zombie, or its pid now belongs to a process
 * that started at another time; anywhere, the lock is older than `staleMs`,
 * far longer than one append holds it. A stale lock is broken by renaming it aside and checking
 * that what was moved is the lock judged stale; if a live lock was moved
 * instead (two breakers raced), it is put back. The holder re-reads the lock
 * right before it writes, so a lock lost in that narrow race costs a retry,
 * not a fork in the chain.
 */

export interface LockOptions {
  /** ms after which a lock is stale whatever its owner. */
  staleMs: number;
  /** ms to wait for a live lock before giving up. */
  timeoutMs: number;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = { staleMs: 30_000, timeoutMs: 60_000 };

const MAX_BACKOFF_MS = 8;
/**
 * A process that released a lock others were waiting for waits about this
 * long before taking it again, so the waiters get their turn. Waiters say
 * they wait by creating `<lock>.waiting`; the releaser removes it.
 */
const TURN_MS = 2;

const lastRelease = new Map<string, number>();

let pidNamespace: string | undefined;
function ownPidNamespace(): string {
  if (pidNamespace === undefined) {
    try {
      pidNamespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNamespace = '';
    }
  }
  return pidNamespace;
}

/** State and start time (clock ticks since boot) of a process, from /proc; null when it does not exist, undefined without /proc. */
function procStat(pid: number | 'self'): { state: string; start: string } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat')) return null;
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

let ownStart: string | undefined;
function ownStartTime(): string {
  ownStart ??= procStat('self')?.start ?? '';
  return ownStart;
}

interface Owner {
  host: string;
  ns: string;
  pid: number;
  /** The owner's start time, so a reused pid is not taken for the owner. */
  start: string;
  time: number;
}

function ownerText(): string {
  return ['pushgate-lock', hostname(), ownPidNamespace(), process.pid, ownStartTime(), Date.now(), randomBytes(6).toString('hex')].join('|');
}

function parseOwner(text: string): Owner | undefined {
  const parts = text.split('|');
  if (parts.length !== 7 || parts[0] !== 'pushgate-lock') return undefined;
  const pid = Number(parts[3]);
  const time = Number(parts[5]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isFinite(time)) return undefined;
  return { host: parts[1]!, ns: parts[2]!, pid, start: parts[4]!, time };
}

/** Whether the process that wrote `owner` still runs (a zombie, or a new process with its pid, does not count). */
function ownerAlive(owner: Owner): boolean {
  const stat = procStat(owner.pid);
  if (stat === null) return false;
  if (stat !== undefined) return stat.state !== 'Z' && (owner.start === '' || stat.start === owner.start);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function isStale(path: string, text: string, staleMs: number, now: number): boolean {
  const owner = parseOwner(text);
  if (owner === undefined) {
    try {
      return now - lstatSync(path).mtimeMs > staleMs;
    } catch {
      return false;
    }
  }
  // A lock dated far in the future is as bogus as one far in the past.
  if (Math.abs(now - owner.time) > staleMs) return true;
  if (owner.host !== hostname() || owner.ns !== ownPidNamespace()) return false;
  return owner.pid !== process.pid && !ownerAlive(owner);
}

/** What a lock held by this process says about its owner: for markers other processes judge with ownerGone. */
export function ownerMark(): string {
  return ownerText();
}

/** Whether the process that wrote `mark` (ownerMark) has ended; a mark from another host or pid namespace counts as alive. */
export function ownerGone(mark: string): boolean {
  return isStale('', mark, Number.POSITIVE_INFINITY, Date.now());
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Moves the stale lock `judged` out of the way; puts back a live one moved by mistake. */
export function breakLock(path: string, judged: string): void {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (code(error) === 'ENOENT') return;
    throw error;
  }
  let moved: string | undefined;
  try {
    moved = readlinkSync(aside);
  } catch {
    moved = undefined;
  }
  if (moved !== undefined && moved !== judged) {
    try {
      symlinkSync(moved, path);
    } catch {
      // Someone took the lock meanwhile; the owner we displaced notices before writing.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Gone already.
  }
}

export class FileLock {
  private constructor(
    readonly path: string,
    private readonly owner: string,
  ) {}

  static async acquire(path: string, options: LockOptions = DEFAULT_LOCK_OPTIONS): Promise<FileLock> {
    const owner = ownerText();
    const deadline = Date.now() + options.timeoutMs;
    const released = lastRelease.get(path);
    if (released !== undefined && Date.now() - released < TURN_MS) await sleep(TURN_MS * (0.5 + Math.random()));
    let backoff = 1;
    for (;;) {
      try {
        symlinkSync(owner, path);
        return new FileLock(path, owner);
      } catch (error) {
        if (code(error) !== 'EEXIST') throw error;
      }
      try {
        symlinkSync('waiting', `${path}.waiting`);
      } catch {
        // Announced already.
      }
      let current: string;
      try {
        current = readlinkSync(path);
      } catch (error) {
        if (code(error) === 'ENOENT') continue;
        throw error;
      }
      const now = Date.now();
      if (isStale(path, current, options.staleMs, now)) {
        breakLock(path, current);
        continue;
      }
      if (now > deadline) {
        throw new AuditError('audit.lock-timeout', `could not lock ${path} within ${options.timeoutMs} ms (held by ${current}); if no pushgate process is writing the audit log, remove it`);
      }
      await sleep(backoff * (0.5 + Math.random()));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** True while the lock on disk is still this one. */
  held(): boolean {
    try {
      return readlinkSync(this.path) === this.owner;
    } catch {
      return false;
    }
  }

  release(): void {
    if (!this.held()) return;
    const waiting = `${this.path}.waiting`;
    if (lstatSync(waiting, { throwIfNoEntry: false }) !== undefined) {
      lastRelease.set(this.path, Date.now());
      try {
        unlinkSync(waiting);
      } catch {
        // Removed by another releaser.
      }
    }
    try {
      unlinkSync(this.path);
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
    }
  }
}
