import { readGitPath, unquoteGitPath } from './c-quote.js';
import { isZeroOid } from './oid.js';

export type FileStatus = 'added' | 'modified' | 'deleted' | 'renamed';

/** One file a commit changes; comes before that file's line events. */
export interface FileEvent {
  kind: 'file';
  commit: string;
  path: string;
  status: FileStatus;
  /** Git judged the content binary ("Binary files … differ"): no line events follow. */
  binary: boolean;
  oldPath?: string;
  /** A gitlink: its "Subproject commit …" pseudo-lines are not reported. */
  submodule: boolean;
  /** Mode on the new side ("100644", "100755", "120000", "160000"); null when deleted or unchanged. */
  mode: string | null;
  /** Object id on the new side; null when deleted or when only the mode changed. */
  oid: string | null;
  /** The commit is a merge and this is its combined diff. */
  merge: boolean;
}

/** A line that is new in `commit`: in a merge, new relative to every parent. */
export interface LineEvent {
  kind: 'line';
  commit: string;
  path: string;
  /** 1-based line number in the file as of `commit`. */
  line: number;
  /** The line without its newline (a CR of a CRLF file is kept). */
  text: string;
}

export type DiffEvent = FileEvent | LineEvent;

const LF = 0x0a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const SPACE = 0x20;
const AT = 0x40;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * A line a reader writes to `diff-tree --stdin` between commits: git echoes
 * what is not an object id, so the mark comes back once everything before it
 * has been written. No line of the patch output this parser reads (no
 * `--raw`) starts with a colon.
 */
export const SPOOL_MARK = ':pushgate-mark';
const SPOOL_MARK_BYTES = Buffer.from(SPOOL_MARK, 'latin1');

interface PendingFile {
  header: string | undefined;
  path: string | undefined;
  oldPath: string | undefined;
  status: FileStatus;
  binary: boolean;
  mode: string | null;
  oid: string | null;
  gitlink: boolean;
  merge: boolean;
}

function isHexByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66);
}

/**
 * Incremental parser for `git diff-tree --stdin -p --cc -U0` output (commit
 * id lines followed by that commit's patch). Feed it chunks as they arrive;
 * it keeps only the unfinished last line between chunks. Content lines are
 * told apart by their first byte alone; only headers become strings.
 */
/**
 * Decides from the raw bytes of an added line (`buf[start..end)`) whether it
 * is worth a LineEvent. Lines it turns down never become strings, which is
 * most of the cost of reading a large push.
 */
export type LineFilter = (buf: Buffer, start: number, end: number) => boolean;

export class DiffParser {
  /** The commit ids seen so far, in output order. */
  readonly commits: string[] = [];
  /** Bytes of added lines read so far, whether or not the filter kept them. */
  addedBytes = 0;
  /** SPOOL_MARK lines read so far. */
  marks = 0;
  private out: DiffEvent[] = [];
  private carry: Buffer[] = [];
  private commit = '';
  private pending: PendingFile | undefined;
  /** The file whose hunks are being read, once its header is complete. */
  private path: string | undefined;
  private skipLines = false;
  private inHunk = false;
  /** Parent columns in front of each hunk line: 1 for a plain diff, N for a merge of N parents. */
  private columns = 1;
  private newLine = 0;

  constructor(private readonly lineFilter?: LineFilter) {}

  /** Nothing of `chunk` is kept after the call: its bytes may be read into again (Spool.read). */
  push(chunk: Buffer): DiffEvent[] {
    this.out = [];
    let start = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.carry.push(Buffer.from(chunk));
        return this.out;
      }
      this.carry.push(chunk.subarray(0, nl));
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.line(line, 0, line.length);
      start = nl + 1;
    }
    for (let nl = chunk.indexOf(LF, start); nl >= 0; nl = chunk.indexOf(LF, start)) {
      this.line(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
    return this.out;
  }

  /** Call once after the last chunk. */
  end(): DiffEvent[] {
    this.out = [];
    if (this.carry.length > 0) {
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.line(line, 0, line.length);
    }
    this.flushFile();
    return this.out;
  }

  private line(buf: Buffer, s: number, e: number): void {
    if (this.inHunk) {
      if (e === s) {
        // An empty context line (diff.suppressBlankEmpty).
        this.newLine += 1;
        return;
      }
      const c = buf[s]!;
      if (c === PLUS || c === MINUS || c === SPACE) {
        if (this.columns === 1) this.plainLine(buf, c, s, e);
        else this.combinedLine(buf, s, e);
        return;
      }
      if (c === BACKSLASH) return; // "\ No newline at end of file"
      this.inHunk = false;
    }
    if (s === e) return;
    const c = buf[s]!;
    if (c === COLON && e - s === SPOOL_MARK_BYTES.length && buf.compare(SPOOL_MARK_BYTES, 0, SPOOL_MARK_BYTES.length, s, e) === 0) {
      this.marks += 1;
      return;
    }
    if (c === AT) {
      this.startHunk(buf.toString('latin1', s, e));
      return;
    }
    if ((e - s === 40 || e - s === 64) && isHexByte(c) && this.isCommitLine(buf, s, e)) {
      this.flushFile();
      this.commit = buf.toString('latin1', s, e);
      this.commits.push(this.commit);
      this.path = undefined;
      return;
    }
    this.header(buf.toString('utf8', s, e));
  }

  private plainLine(buf: Buffer, c: number, s: number, e: number): void {
    if (c === MINUS) return;
    if (c === PLUS && !this.skipLines && this.path !== undefined) this.added(buf, s + 1, e);
    this.newLine += 1;
  }

  private added(buf: Buffer, s: number, e: number): void {
    this.addedBytes += e - s + 1;
    if (this.lineFilter !== undefined && !this.lineFilter(buf, s, e)) return;
    this.out.push({ kind: 'line', commit: this.commit, path: this.path!, line: this.newLine, text: buf.toString('utf8', s, e) });
  }

  /** In a combined diff a line is new only when every parent column is '+'; any '-' means it is not in the result. */
  private combinedLine(buf: Buffer, s: number, e: number): void {
    const n = this.columns;
    let everyPlus = true;
    for (let k = 0; k < n; k += 1) {
      const b = s + k < e ? buf[s + k]! : SPACE;
      if (b === MINUS) return;
      if (b !== PLUS) everyPlus = false;
    }
    if (everyPlus && !this.skipLines && this.path !== undefined) this.added(buf, Math.min(s + n, e), e);
    this.newLine += 1;
  }

  private isCommitLine(buf: Buffer, s: number, e: number): boolean {
    for (let i = s; i < e; i += 1) if (!isHexByte(buf[i]!)) return false;
    return true;
  }

  /** "@@ -a,b +c,d @@" or, for N parents, N+1 '@' and N old ranges: the new side starts at c. */
  private startHunk(text: string): void {
    this.flushFile();
    let ats = 0;
    while (text.charCodeAt(ats) === AT) ats += 1;
    const plus = text.indexOf(' +', ats);
    if (ats < 2 || plus < 0) return;
    let value = 0;
    for (let i = plus + 2; i < text.length; i += 1) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    this.columns = ats - 1;
    this.newLine = value;
    this.inHunk = true;
  }

  private header(text: string): void {
    if (text.startsWith('diff --git ')) {
      this.startFile(text.slice(11), undefined, false);
      return;
    }
    if (text.startsWith('diff --cc ') || text.startsWith('diff --combined ')) {
      this.startFile(undefined, unquoteGitPath(text.slice(text.indexOf(' ', 5) + 1)), true);
      return;
    }
    const file = this.pending;
    if (file === undefined) return;
    if (text.startsWith('index ')) {
      const range = text.slice(6);
      const dots = range.indexOf('..');
      const space = range.indexOf(' ', dots);
      const oid = range.slice(dots + 2, space < 0 ? undefined : space);
      file.oid = isZeroOid(oid) ? null : oid;
      if (space >= 0) this.setMode(file, range.slice(space + 1));
    } else if (text.startsWith('new file mode ')) {
      file.status = 'added';
      this.setMode(file, text.slice(14));
    } else if (text.startsWith('deleted file mode ')) {
      file.status = 'deleted';
      if (text.includes('160000')) file.gitlink = true;
      file.mode = null;
    } else if (text.startsWith('new mode ')) {
      this.setMode(file, text.slice(9));
    } else if (text.startsWith('mode ')) {
      // Combined: "mode <parent modes,…>..<result mode>"
      this.setMode(file, text.slice(text.indexOf('..') + 2));
    } else if (text.startsWith('Binary files ')) {
      file.binary = true;
    } else if (text.startsWith('rename from ')) {
      file.status = 'renamed';
      file.oldPath = unquoteGitPath(text.slice(12));
    } else if (text.startsWith('rename to ')) {
      file.status = 'renamed';
      file.path = unquoteGitPath(text.slice(10));
    }
  }

  private setMode(file: PendingFile, mode: string): void {
    file.mode = mode;
    if (mode === '160000') file.gitlink = true;
  }

  private startFile(header: string | undefined, path: string | undefined, merge: boolean): void {
    this.flushFile();
    this.inHunk = false;
    this.path = undefined;
    this.pending = { header, path, oldPath: undefined, status: 'modified', binary: false, mode: null, oid: null, gitlink: false, merge };
  }

  private flushFile(): void {
    const file = this.pending;
    if (file === undefined) return;
    this.pending = undefined;
    const path = file.path ?? newPathOfHeader(file.header!);
    const event: FileEvent = {
      kind: 'file',
      commit: this.commit,
      path,
      status: file.status,
      binary: file.binary,
      submodule: file.gitlink,
      mode: file.status === 'deleted' ? null : file.mode,
      oid: file.status === 'deleted' ? null : file.oid,
      merge: file.merge,
    };
    if (file.oldPath !== undefined) event.oldPath = file.oldPath;
    this.out.push(event);
    this.path = path;
    this.skipLines = file.gitlink || file.status === 'deleted';
  }
}

/**
 * The b/ path of a "diff --git a/<old> b/<new>" header. Either side may be
 * C-quoted. Unquoted, the two sides can only be told apart when they are the
 * same path, which holds for everything but renames, and renames carry
 * explicit "rename to" lines.
 */
export function newPathOfHeader(header: string): string {
  if (header.startsWith('"')) {
    const first = readGitPath(header, 0);
    return stripPrefix(readGitPath(header, first.end + 1).path);
  }
  const quoted = header.indexOf(' "');
  if (quoted >= 0) return stripPrefix(readGitPath(header, quoted + 1).path);
  if ((header.length - 5) % 2 === 0) {
    const n = (header.length - 5) / 2;
    const a = header.slice(2, 2 + n);
    if (header.slice(2 + n, 5 + n) === ' b/' && header.slice(5 + n) === a) return a;
  }
  const b = header.lastIndexOf(' b/');
  return b < 0 ? header : header.slice(b + 3);
}

function stripPrefix(path: string): string {
  return path.startsWith('b/') || path.startsWith('a/') ? path.slice(2) : path;
}
