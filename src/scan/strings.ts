/**
 * The text a scanner can read in any bytes, text file or not: what
 * `strings -n 8` would print, and what `strings -e l` would (UTF-16 text).
 * One NUL byte makes git call a file binary and show no line of it; a
 * secret in such a file is still a run of printable characters, so every
 * object that git's diff does not show line by line is read this way.
 *
 * Written by hand, not taken from a package: it has to run over streamed
 * chunks of a blob (objects can be larger than memory should hold), count
 * lines as `grep -a -n` does, and hand out byte ranges so that a run is only
 * decoded to a string when the prefilter says it may hold a secret.
 *
 * A run is a maximal stretch of printable bytes: 0x20–0x7e, tab, and every
 * byte ≥ 0x80 (so UTF-8 text stays whole); line breaks and other control
 * bytes end it. UTF-16 runs are printable ASCII characters each followed
 * by a NUL byte (little-endian; big-endian text is the same pattern one
 * byte later, less its last character).
 */

/** Shorter runs are not reported (`strings` prints runs of 4 by default; no secret rule matches fewer than 8 characters). */
export const MIN_RUN = 8;
/** A longer run is reported in pieces of this size that overlap by RUN_OVERLAP bytes, so memory stays bounded whatever the input. */
export const MAX_RUN = 1024 * 1024;
export const RUN_OVERLAP = 4096;

/** `buf[start..end)` is one run; `line` is the 1-based line (counted by LF bytes) it starts on. */
export type RunHandler = (buf: Buffer, start: number, end: number, line: number) => void;

const LF = 0x0a;
const TAB = 0x09;

function printable(b: number): boolean {
  return (b >= 0x20 && b !== 0x7f) || b === TAB;
}

function printableAscii(b: number): boolean {
  return (b >= 0x20 && b < 0x7f) || b === TAB;
}

/** Feed chunks with push(), then call end(); runs are handed to the handler as they complete. */
export class PrintableRuns {
  private line = 1;
  /** The unfinished run of the previous chunk(s), and the line it started on. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryLine = 1;
  /** UTF-16: characters confirmed so far (ASCII), and whether a character waits for its NUL. */
  private wide: number[] = [];
  private wideLine = 1;
  private pendingChar = -1;

  constructor(
    private readonly onRun: RunHandler,
    private readonly minRun = MIN_RUN,
  ) {}

  push(chunk: Buffer): void {
    const n = chunk.length;
    let start = -1;
    if (this.carryBytes > 0) start = 0;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      this.wideByte(b);
      if (printable(b)) {
        if (start < 0) {
          start = i;
          this.carryLine = this.line;
        }
        if (this.carryBytes + (i + 1 - start) >= MAX_RUN) {
          this.emitLong(chunk, start, i + 1);
          // The run goes on as the kept tail (in the carry) and what follows i.
          start = i + 1;
        }
        continue;
      }
      if (start >= 0) this.finish(chunk, start, i);
      start = -1;
      if (b === LF) this.line += 1;
    }
    if (start >= 0) {
      this.carry.push(Buffer.from(chunk.subarray(start)));
      this.carryBytes += n - start;
    }
  }

  end(): void {
    if (this.carryBytes > 0) this.finish(Buffer.alloc(0), 0, 0);
    this.endWide();
  }

  private finish(chunk: Buffer, start: number, end: number): void {
    if (this.carryBytes === 0) {
      if (end - start >= this.minRun) this.onRun(chunk, start, end, this.carryLine);
      return;
    }
    const whole = Buffer.concat([...this.carry, chunk.subarray(start, end)]);
    this.carry = [];
    this.carryBytes = 0;
    if (whole.length >= this.minRun) this.onRun(whole, 0, whole.length, this.carryLine);
  }

  /** A run reached MAX_RUN: report it, and keep its last RUN_OVERLAP bytes as the start of the next piece. */
  private emitLong(chunk: Buffer, start: number, end: number): void {
    const whole = this.carryBytes === 0 ? chunk.subarray(start, end) : Buffer.concat([...this.carry, chunk.subarray(start, end)]);
    this.onRun(whole, 0, whole.length, this.carryLine);
    const tail = Buffer.from(whole.subarray(whole.length - RUN_OVERLAP));
    this.carry = [tail];
    this.carryBytes = tail.length;
  }

  private wideByte(b: number): void {
    if (this.pendingChar >= 0) {
      if (b === 0) {
        if (this.wide.length === 0) this.wideLine = this.line;
        this.wide.push(this.pendingChar);
        this.pendingChar = -1;
        if (this.wide.length >= MAX_RUN) {
          this.emitWide();
          this.wide = this.wide.slice(-RUN_OVERLAP);
        }
        return;
      }
      // The character had no NUL after it: the UTF-16 run, if any, ended before it.
      this.pendingChar = -1;
      this.endWide();
    }
    if (printableAscii(b)) this.pendingChar = b;
    else this.endWide();
  }

  private endWide(): void {
    if (this.wide.length >= this.minRun) this.emitWide();
    this.wide = [];
  }

  private emitWide(): void {
    const bytes = Buffer.from(this.wide);
    this.onRun(bytes, 0, bytes.length, this.wideLine);
  }
}

/** Every run of `data` (one buffer), as PrintableRuns reports them. */
export function printableRuns(data: Buffer, onRun: RunHandler, minRun = MIN_RUN): void {
  const runs = new PrintableRuns(onRun, minRun);
  runs.push(data);
  runs.end();
}
