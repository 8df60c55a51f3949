import { checkAllDiffed, checkCommitIds } from './commit-ids.js';
import { DiffParser, SPOOL_MARK, type DiffEvent, type LineFilter } from './diff-parser.js';
import { failure, spawnGit, type GitProcess } from './run.js';
import { Spool, stdbufPath } from './spool.js';

export interface DiffStreamOptions {
  /** Detect renames (-M): a renamed file then reports only its changed lines. Off by default, so a moved file is read in full. */
  renames?: boolean;
  /** Keeps only the added lines worth a LineEvent (see LineFilter). */
  lineFilter?: LineFilter;
  /** Updated as git's output is read: bytes of all added lines, filtered or not. */
  progress?: { addedBytes: number };
}

export interface DiffStartOptions {
  renames?: boolean;
  /**
   * Git processes to split the commits across (default 1). Each diffs a
   * contiguous run of the commits; the events still come in one order.
   */
  processes?: number;
  /**
   * How much of git's output may pile up in its spool file: after `batchBytes`
   * read the file is emptied, and git is kept about `leadBytes` ahead of the
   * parser. The defaults (64 MiB, 16 MiB) suit large pushes.
   */
  spool?: { batchBytes?: number; leadBytes?: number };
}

/**
 * Arguments that make the patch output independent of the repository's and
 * the user's diff configuration. A deleted file's lines are never scanned, so
 * `--irreversible-delete` leaves them out of the output.
 */
export function diffArgs(options: { renames?: boolean } = {}): string[] {
  return [
    '-c', 'core.quotePath=false',
    '-c', 'diff.suppressBlankEmpty=false',
    'diff-tree', '--stdin', '--always', '-r', '-p', '--cc', '-U0', '--root', '--irreversible-delete',
    '--no-color', '--no-ext-diff', '--no-textconv', '--full-index', '--submodule=short',
    '--src-prefix=a/', '--dst-prefix=b/', '--no-relative',
    options.renames === true ? '-M' : '--no-renames',
  ];
}

/** A later part reads ahead while earlier parts are consumed, up to about this many bytes of events. */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;
/** The part being consumed keeps only this much ahead of the consumer; git waits for more commits meanwhile. */
const CURRENT_AHEAD_BYTES = 1024 * 1024;
/** With a line filter, an empty batch is handed over after this much output without events. */
const QUIET_BYTES = 256 * 1024;
/** Output read from the spool file before git is sent a mark and, once it has answered, the file is emptied (default). */
const SPOOL_BATCH_BYTES = 64 * 1024 * 1024;
/** git is given commits to keep about this much output ahead of the parser, estimated from the commits read so far (default). */
const LEAD_BYTES = 16 * 1024 * 1024;
/** Commits git is given ahead of the parser at the least, and before anything is read. */
const MIN_LEAD_COMMITS = 8;

function weight(events: readonly DiffEvent[]): number {
  let bytes = 0;
  for (const event of events) bytes += event.kind === 'line' ? 64 + event.text.length : 256;
  return bytes;
}

/**
 * One `git diff-tree --stdin -p --cc` process over a run of commits, its
 * output spooled through a file (see Spool). git starts at once and is given
 * its commits a few at a time, as the parser reaches them: that holds its
 * lead, and so the file, within bounds. `read` attaches the parser, which
 * queues the events until the consumer takes them.
 */
class DiffPart {
  private readonly spool: Spool;
  private readonly proc: GitProcess;
  private readonly batches: DiffEvent[][] = [];
  private held = 0;
  private limit = READ_AHEAD_BYTES;
  /** Reading is held back while too many events wait for the consumer. */
  private paused = false;
  private unpause: (() => void) | undefined;
  private finished = false;
  private stopped = false;
  private error: unknown;
  private wake: (() => void) | undefined;
  private reported = 0;
  private parser: DiffParser | undefined;
  /** Commits written to git's stdin so far. */
  private fed = 0;
  /** A mark was written and has not come back yet: nothing more is written until it has. */
  private marked = false;
  /** All output read so far, for the bytes-per-commit estimate. */
  private outputBytes = 0;

  constructor(
    private readonly args: readonly string[],
    private readonly commits: readonly string[],
    gitDir: string,
    env: NodeJS.ProcessEnv | undefined,
    private readonly batchBytes: number,
    private readonly leadBytes: number,
  ) {
    this.spool = new Spool();
    try {
      // GIT_FLUSH: git writes out what it has after every line it reads, also to a file; a mark then comes back at once.
      this.proc = spawnGit(args, { gitDir, env: { ...(env ?? process.env), GIT_FLUSH: '1' }, stdin: true, stdout: this.spool.fd, stdbuf: stdbufPath(env) });
    } catch (error) {
      this.spool.close();
      throw error;
    }
    this.spool.follow(this.proc.child);
    this.feed();
  }

  read(options: DiffStreamOptions): void {
    if (this.parser !== undefined || this.stopped) return;
    const parser = new DiffParser(options.lineFilter);
    this.parser = parser;
    void this.pump(parser, options);
  }

  current(): void {
    this.limit = CURRENT_AHEAD_BYTES;
  }

  async *drain(): AsyncGenerator<DiffEvent[], void, undefined> {
    for (;;) {
      const batch = this.batches.shift();
      if (batch !== undefined) {
        this.held -= weight(batch);
        this.resumeIfRoom();
        yield batch;
        continue;
      }
      if (this.finished) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  stop(): void {
    if (this.finished || this.stopped) return;
    this.stopped = true;
    this.proc.child.kill();
    this.unpause?.();
    if (this.parser === undefined) {
      // Nothing reads the file: it can be closed now.
      this.spool.close();
      this.finished = true;
    }
  }

  /** Reads the spool file as git writes it, parses it, and gives git more commits as the parser reaches them. */
  private async pump(parser: DiffParser, options: DiffStreamOptions): Promise<void> {
    const count = (): void => {
      if (options.progress) options.progress.addedBytes += parser.addedBytes - this.reported;
      this.reported = parser.addedBytes;
    };
    // With a filter most chunks yield nothing; an empty batch now and then still lets the consumer check its budgets.
    const keepEmpty = options.lineFilter !== undefined;
    let quiet = 0;
    let marks = 0;
    try {
      for (;;) {
        while (this.paused && !this.stopped) {
          await new Promise<void>((resolve) => {
            this.unpause = resolve;
          });
        }
        if (this.stopped) return;
        const chunk = await this.spool.read();
        if (this.stopped) return;
        if (chunk === null) break;
        this.outputBytes += chunk.length;
        const events = parser.push(chunk);
        count();
        quiet += chunk.length;
        if (events.length > 0 || (keepEmpty && quiet >= QUIET_BYTES && this.batches.length === 0)) {
          quiet = 0;
          this.enqueue(events);
        }
        if (parser.marks !== marks) {
          // git has written everything before the mark and waits for its next line.
          marks = parser.marks;
          await this.spool.truncate();
          this.marked = false;
        }
        this.feed();
      }
      const { code, stderr } = await this.proc.exited;
      const rest = parser.end();
      count();
      if (code !== 0) throw failure(this.args, code, stderr);
      checkAllDiffed(this.args, this.commits, parser.commits, stderr);
      if (rest.length > 0) this.enqueue(rest);
    } catch (error) {
      this.error = error;
      this.proc.child.kill();
    } finally {
      this.spool.close();
      this.finished = true;
      this.signal();
    }
  }

  /**
   * Gives git commits to keep it about `leadBytes` ahead of the parser; after
   * `batchBytes` of output a mark instead, so that the file can be
   * emptied once git has answered it.
   */
  private feed(): void {
    if (this.marked || this.fed === this.commits.length) return;
    const stdin = this.proc.child.stdin!;
    if (this.spool.readSinceEmptied >= this.batchBytes) {
      stdin.write(`${SPOOL_MARK}\n`);
      this.marked = true;
      return;
    }
    const parsed = this.parser?.commits.length ?? 0;
    const perCommit = parsed > 0 ? this.outputBytes / parsed : 0;
    const lead = perCommit > 0 ? Math.max(MIN_LEAD_COMMITS, Math.ceil(this.leadBytes / perCommit)) : MIN_LEAD_COMMITS;
    const target = Math.min(this.commits.length, parsed + lead);
    if (target <= this.fed) return;
    stdin.write(this.commits.slice(this.fed, target).join('\n') + '\n');
    this.fed = target;
    if (this.fed === this.commits.length) stdin.end();
  }

  private enqueue(events: DiffEvent[]): void {
    this.batches.push(events);
    this.held += weight(events);
    if (this.held > this.limit) this.paused = true;
    this.signal();
  }

  private resumeIfRoom(): void {
    if (this.paused && this.held <= this.limit) {
      this.paused = false;
      const unpause = this.unpause;
      this.unpause = undefined;
      unpause?.();
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Splits `items` into `n` contiguous runs of nearly equal length (fewer when there are fewer items). */
function partition<T>(items: readonly T[], n: number): T[][] {
  const parts = Math.max(1, Math.min(Math.floor(n), items.length));
  const out: T[][] = [];
  for (let i = 0; i < parts; i++) out.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return out;
}

/** A diff whose git processes are running; its events are read once, with `events`. */
export interface DiffRun {
  events(options?: DiffStreamOptions): AsyncGenerator<DiffEvent[], void, undefined>;
  /** Stops git; for a run whose events will not be read. */
  stop(): void;
}

/**
 * Starts diffing `commits` now: git works on the first few at once and is
 * given the rest as the events are read. Every commit is diffed against its own parents (a line
 * added and removed within the push is seen); merges are combined diffs, so
 * only lines new relative to all parents count.
 *
 * Commits are read newest first: packs store recent versions whole and older
 * ones as deltas against them, so this order reads the objects at the cost of
 * `git log -p`; parents first measured about 40% slower. With several
 * processes each takes a contiguous run of that order, later runs read ahead
 * into memory (bounded), and the events come out in the same order as from
 * one process.
 */
export function startDiff(gitDir: string, commits: readonly string[], env?: NodeJS.ProcessEnv, options: DiffStartOptions = {}): DiffRun {
  checkCommitIds(commits);
  const args = diffArgs(options);
  const order = [...commits].reverse();
  const batchBytes = Math.max(1, options.spool?.batchBytes ?? SPOOL_BATCH_BYTES);
  const leadBytes = options.spool?.leadBytes ?? LEAD_BYTES;
  const parts: DiffPart[] = [];
  try {
    if (order.length > 0) for (const run of partition(order, options.processes ?? 1)) parts.push(new DiffPart(args, run, gitDir, env, batchBytes, leadBytes));
  } catch (error) {
    for (const part of parts) part.stop();
    throw error;
  }
  let used = false;
  const stop = (): void => {
    for (const part of parts) part.stop();
  };
  return {
    stop,
    async *events(streamOptions: DiffStreamOptions = {}) {
      if (used) throw new Error('the events of a diff are read once');
      used = true;
      let done = false;
      try {
        for (const part of parts) part.read(streamOptions);
        for (const part of parts) {
          part.current();
          yield* part.drain();
        }
        done = true;
      } finally {
        if (!done) stop();
      }
    },
  };
}

/**
 * What each commit changes, streamed from `git diff-tree --stdin -p --cc`
 * (see startDiff): for every file a FileEvent, then a LineEvent per added
 * line, in batches as git's output arrives. git waits while a batch is being
 * handled, and is stopped if the loop ends early.
 */
export async function* diffEvents(gitDir: string, commits: readonly string[], env?: NodeJS.ProcessEnv, options: DiffStreamOptions & DiffStartOptions = {}): AsyncGenerator<DiffEvent[], void, undefined> {
  yield* startDiff(gitDir, commits, env, options).events(options);
}
