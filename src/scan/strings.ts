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
 * byte later, less its last character), and UTF-32 runs likewise with three.
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

/*
 * The searches run as regular expressions over the bytes read as latin1
 * (one character per byte, so offsets are byte offsets): V8 compiles them
 * to machine code, several times faster than a loop over the bytes in
 * JavaScript, and with no warm-up.
 */
const compiled = new Map<string, RegExp>();
/** Compiled once per minimum length; each use sets lastIndex and runs to the end, synchronously. */
function cached(source: string): RegExp {
  let regex = compiled.get(source);
  if (regex === undefined) {
    regex = new RegExp(source, 'g');
    compiled.set(source, regex);
  }
  return regex;
}
const NARROW = (min: number): RegExp => cached(`[\\t\\x20-\\x7e\\x80-\\xff]{${min},}`);
const WIDE = (min: number): RegExp => cached(`(?:[\\t\\x20-\\x7e]\\x00){${min},}`);
const WIDER = (min: number): RegExp => cached(`(?:[\\t\\x20-\\x7e]\\x00\\x00\\x00){${min},}`);

/**
 * Says whether bytes `[start, end)` could hold a secret at all (the
 * scanner's prefilter, lineMayHoldSecret). Given one, PrintableRuns skips
 * every stretch of SEGMENT bytes in which it finds nothing: random bytes
 * (compressed images, archives) hold a short printable run every few dozen
 * bytes, and most of the cost would be handing each one over.
 */
export type SegmentFilter = (buf: Buffer, start: number, end: number) => boolean;

const SEGMENT = 4096;
/** Segments are looked at with this much of the next one, so that a keyword or an encoded value across the border is seen (longest keyword: 27 bytes; encoded values: 24). Small segments: some keywords are two or three bytes long, and random bytes hold one every few dozen KiB. */
const SEGMENT_OVERLAP = 256;

/** Feed chunks with push(), then call end() (or the last chunk with last()); runs are handed to the handler as they complete. */
export class PrintableRuns {
  /** Line of the first byte of `carry` (or of the next chunk when there is none). */
  private line = 1;
  /** The end of the previous chunk(s) that may continue a run: no LF inside. */
  private carry: Buffer | undefined;
  private readonly narrow: RegExp;
  private readonly wide: RegExp;
  private readonly wider: RegExp;
  /** Line counting inside one scan: the line at byte `lineAt`. */
  private lineAt = 0;
  private lineNo = 1;

  constructor(
    private readonly onRun: RunHandler,
    private readonly options: { minRun?: number; filter?: SegmentFilter } = {},
  ) {
    this.narrow = NARROW(options.minRun ?? MIN_RUN);
    this.wide = WIDE(options.minRun ?? MIN_RUN);
    this.wider = WIDER(options.minRun ?? MIN_RUN);
  }

  push(chunk: Buffer): void {
    const data = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    const keep = keepFrom(data);
    if (data.length - keep <= MAX_RUN) {
      this.scan(data, keep);
      this.carry = keep < data.length ? Buffer.from(data.subarray(keep)) : undefined;
      return;
    }
    // The trailing run is already longer than a piece: report it now and
    // carry only its last bytes, read again with what follows (the tail
    // holds no LF, so the line count stays right).
    this.scan(data, data.length);
    this.carry = Buffer.from(data.subarray(data.length - RUN_OVERLAP));
  }

  /** The last chunk: push() and end() in one, without looking for a tail to carry. */
  last(chunk: Buffer): void {
    const data = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    this.scan(data, data.length);
  }

  end(): void {
    const data = this.carry;
    this.carry = undefined;
    if (data !== undefined) this.scan(data, data.length);
  }

  /** Reports the runs in data[0..upTo), then moves the line count to upTo. */
  private scan(data: Buffer, upTo: number): void {
    const text = data.toString('latin1', 0, upTo);
    this.lineAt = 0;
    this.lineNo = this.line;
    const filter = this.options.filter;
    if (filter === undefined) this.runs(data, text, this.narrow, 0, upTo);
    else {
      // Narrow runs only where the filter finds something, each run whole.
      let done = 0;
      for (let segment = 0; segment < upTo; segment += SEGMENT) {
        if (!filter(data, segment, Math.min(upTo, segment + SEGMENT + SEGMENT_OVERLAP))) continue;
        let from = Math.max(segment, done);
        while (from > done && printable(data[from - 1]!)) from--;
        let to = Math.min(upTo, segment + SEGMENT);
        while (to < upTo && printable(data[to]!)) to++;
        if (to > from) this.runs(data, text, this.narrow, from, to);
        done = Math.max(done, to);
      }
    }
    // UTF-16 and UTF-32 runs hide keywords behind NUL bytes, so no filter: they are rare in anything but such text.
    const nul = data.indexOf(0);
    if (nul >= 0 && nul < upTo) {
      for (const pattern of [this.wide, this.wider]) {
        this.lineAt = 0;
        this.lineNo = this.line;
        this.runs(data, text, pattern, 0, upTo);
      }
    }
    this.line += countLf(data, 0, upTo);
  }

  /** The runs `pattern` finds in text[from..to) (no run crosses either end). */
  private runs(data: Buffer, text: string, pattern: RegExp, from: number, to: number): void {
    const step = pattern === this.wide ? 2 : pattern === this.wider ? 4 : 1;
    pattern.lastIndex = from;
    for (let match = pattern.exec(text); match !== null && match.index < to; match = pattern.exec(text)) {
      const start = match.index;
      const end = start + match[0].length;
      this.lineNo += countLf(data, this.lineAt, start);
      this.lineAt = start;
      if (step > 1) this.emitWide(data, start, end, step, this.lineNo);
      else this.emit(data, start, end, this.lineNo);
    }
  }

  /** A run, in pieces of at most MAX_RUN bytes that overlap. */
  private emit(data: Buffer, start: number, end: number, line: number): void {
    for (let from = start; ; from += MAX_RUN - RUN_OVERLAP) {
      const to = Math.min(end, from + MAX_RUN);
      this.onRun(data, from, to, line);
      if (to === end) return;
    }
  }

  /** A UTF-16 or UTF-32 run (`step` bytes a character): its characters without the NUL bytes. */
  private emitWide(data: Buffer, start: number, end: number, step: number, line: number): void {
    const chars = Buffer.allocUnsafe(Math.floor((end - start) / step));
    for (let i = 0; i < chars.length; i++) chars[i] = data[start + step * i]!;
    this.emit(chars, 0, chars.length, line);
  }
}

function countLf(data: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = data.indexOf(LF, from); i >= 0 && i < to; i = data.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Where the part of `data` starts that a following chunk could extend: the
 * trailing printable run, the trailing UTF-16 run, and whatever run the
 * earlier of the two cuts through. Everything before it is final.
 */
function keepFrom(data: Buffer): number {
  let narrow = data.length;
  while (narrow > 0 && printable(data[narrow - 1]!)) narrow--;
  const wide = trailingWide(data, 2);
  const wider = trailingWide(data, 4);
  let keep = Math.min(narrow, wide, wider);
  while (keep > 0 && printable(data[keep - 1]!)) keep--;
  return keep;
}

/** Where a trailing run of `step`-byte characters (an ASCII byte, then NULs) starts, allowing for a last character cut short. */
function trailingWide(data: Buffer, step: number): number {
  let at = data.length;
  // A cut-short last character: its ASCII byte and fewer than step - 1 NULs.
  for (let nuls = 0; nuls < step - 1 && at - nuls - 1 >= 0; nuls++) {
    if (data[at - nuls - 1] !== 0) {
      if (printableAscii(data[at - nuls - 1]!) && (nuls === 0 || data.subarray(at - nuls, at).every((b) => b === 0))) at -= nuls + 1;
      break;
    }
  }
  for (;;) {
    const from = at - step;
    if (from < 0 || !printableAscii(data[from]!)) return at;
    for (let k = 1; k < step; k++) if (data[from + k] !== 0) return at;
    at = from;
  }
}

/** Every run of `data` (one buffer), as PrintableRuns reports them. */
export function printableRuns(data: Buffer, onRun: RunHandler, options: { minRun?: number; filter?: SegmentFilter } = {}): void {
  new PrintableRuns(onRun, options).last(data);
}
