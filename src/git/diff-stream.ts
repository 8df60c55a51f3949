import { checkAllDiffed, checkCommitIds } from './commit-ids.js';
import { DiffParser, type DiffEvent, type LineFilter } from './diff-parser.js';
import { failure, spawnGit, type GitProcess } from './run.js';

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
}

/** Arguments that make the patch output independent of the repository's and the user's diff configuration. */
export function diffArgs(options: { renames?: boolean } = {}): string[] {
  return [
    '-c', 'core.quotePath=false',
    '-c', 'diff.suppressBlankEmpty=false',
    'diff-tree', '--stdin', '--always', '-r', '-p', '--cc', '-U0', '--root',
    '--no-color', '--no-ext-diff', '--no-textconv', '--full-index', '--submodule=short',
    '--src-prefix=a/', '--dst-prefix=b/', '--no-relative',
    options.renames === true ? '-M' : '--no-renames',
  ];
}

/** A later part reads ahead while earlier parts are consumed, up to about this many bytes of events. */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;
/** The part being consumed keeps only this much ahead of the consumer; git waits on the pipe meanwhile. */
const CURRENT_AHEAD_BYTES = 1024 * 1024;
/** With a line filter, an empty batch is handed over after this much output without events. */
const QUIET_BYTES = 256 * 1024;
/** Raw output kept before the events are asked for. */
const EARLY_BYTES = 1024 * 1024;

function weight(events: readonly DiffEvent[]): number {
  let bytes = 0;
  for (const event of events) bytes += event.kind === 'line' ? 64 + event.text.length : 256;
  return bytes;
}

/**
 * One `git diff-tree --stdin -p --cc` process over a run of commits. git
 * starts at once; its output waits in the pipe until `read` attaches a
 * parser, which then queues the events until the consumer takes them.
 */
class DiffPart {
  private readonly proc: GitProcess;
  private readonly batches: DiffEvent[][] = [];
  private held = 0;
  private limit = READ_AHEAD_BYTES;
  private paused = false;
  private finished = false;
  private error: unknown;
  private wake: (() => void) | undefined;
  private reported = 0;

  /** Output that came before `read` attached the parser. */
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private take: ((chunk: Buffer) => void) | undefined;

  constructor(
    private readonly args: readonly string[],
    private readonly commits: readonly string[],
    gitDir: string,
    env: NodeJS.ProcessEnv | undefined,
  ) {
    this.proc = spawnGit(args, { gitDir, env, stdin: true });
    this.proc.child.stdin!.end(commits.join('\n') + '\n');
    // Listening from the start: node discards the output of a child that
    // exits with nobody listening. Until the parser is attached, a little is
    // kept and git then waits on the pipe.
    this.proc.child.stdout!.on('data', (chunk: Buffer) => {
      if (this.take !== undefined) {
        this.take(chunk);
        return;
      }
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes > EARLY_BYTES) this.pause();
    });
  }

  read(options: DiffStreamOptions): void {
    const parser = new DiffParser(options.lineFilter);
    const keepEmpty = options.lineFilter !== undefined;
    const count = (): void => {
      if (options.progress) options.progress.addedBytes += parser.addedBytes - this.reported;
      this.reported = parser.addedBytes;
    };
    let quiet = 0;
    this.take = (chunk: Buffer) => {
      const events = parser.push(chunk);
      count();
      quiet += chunk.length;
      // With a filter most chunks yield nothing; an empty batch now and then still lets the consumer check its budgets.
      if (events.length > 0 || (keepEmpty && quiet >= QUIET_BYTES && this.batches.length === 0)) {
        quiet = 0;
        this.enqueue(events);
      }
    };
    for (const chunk of this.early.splice(0)) this.take(chunk);
    this.earlyBytes = 0;
    this.resumeIfRoom();
    this.proc.exited.then(
      ({ code, stderr }) => {
        try {
          const rest = parser.end();
          count();
          if (code !== 0) throw failure(this.args, code, stderr);
          checkAllDiffed(this.args, this.commits, parser.commits, stderr);
          if (rest.length > 0) this.enqueue(rest);
        } catch (error) {
          this.error = error;
        }
        this.finished = true;
        this.signal();
      },
      (error: unknown) => {
        this.error = error;
        this.finished = true;
        this.signal();
      },
    );
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
    if (this.finished) return;
    this.proc.child.kill();
    this.proc.child.stdout!.destroy();
  }

  private enqueue(events: DiffEvent[]): void {
    this.batches.push(events);
    this.held += weight(events);
    if (this.held > this.limit) this.pause();
    this.signal();
  }

  private resumeIfRoom(): void {
    if (this.paused && this.held <= this.limit) {
      this.paused = false;
      this.proc.child.stdout!.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.proc.child.stdout!.pause();
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
 * Starts diffing `commits` now; the output waits in git's pipe until the
 * events are read. Every commit is diffed against its own parents (a line
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
  const parts = order.length === 0 ? [] : partition(order, options.processes ?? 1).map((run) => new DiffPart(args, run, gitDir, env));
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
