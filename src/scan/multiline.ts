import { shannonEntropy } from './entropy.js';
import { isPlaceholder } from './lookalike.js';
import { namesNonSecret, namesSecret, plausibleStandaloneValue } from './validators.js';

/**
 * Values a format puts on the lines after their name: the body of a PEM
 * private key after its header, an XML element's value on the line after
 * `<password>`, a YAML block scalar (`password: |`), the values of a
 * Kubernetes Secret's `data:` / `stringData:`. The scanner sees one line at
 * a time (an added line of a diff, a line of a file), so this remembers
 * what the previous line opened, for the same path and the next line only
 * (a PEM header may be followed by `Proc-Type:` / `DEK-Info:` lines first).
 */

export type FollowKind = 'private-key' | 'value' | 'kubernetes';

export interface Followed {
  kind: FollowKind;
  /** The lines around judged the value and found no secret (a Secret's `data:` value that decodes to a placeholder). */
  quiet?: boolean;
  /** 0-based [start, end) of the value in the line. */
  start: number;
  end: number;
}

type Open =
  | { kind: 'pem'; line: number }
  | { kind: 'element'; line: number }
  | { kind: 'block'; line: number; indent: number }
  | { kind: 'section'; line: number; indent: number; encoded: boolean };

const DASHES = '-'.repeat(5);
/** A private-key header with nothing after it but a closing quote or comma. */
const PEM_ALONE = new RegExp(`${DASHES}BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?${DASHES}\\s{0,3}(?:\\\\{1,2}n)?["'\`,]{0,2}\\s*$`);
/** `<password>`, `<ns:clientSecret attr="…">` at the end of a line. */
const ELEMENT_OPEN = /<([A-Za-z_][\w:.-]{0,80})(?:\s[^<>]{0,200})?>\s*$/;
/** `<entry key="db.password">`, `<param name="token">` at the end of a line. */
const NAMED_ELEMENT_OPEN = /\b(?:key|name)\s{0,2}=\s{0,2}["']([^"'<>]{1,80})["'][^<>]{0,100}>\s*$/;
/** `password: |`, `"secret": >-` */
const BLOCK_OPEN = /^(\s*)(?:-\s+)?["']?([\w.-]{1,80})["']?\s*:\s*[|>][-+]?[0-9]?\s*$/;
/** Kubernetes Secret sections. */
const SECTION_OPEN = /^(\s*)(data|stringData)\s*:\s*$/;
const SECTION_ENTRY = /^(\s*)["']?([\w.-]{1,253})["']?\s*:\s*["']?([^\s"'#]{1,4000})["']?\s*(?:#.*)?$/;
const OPENER_ENDS = '-"\'`,>|:+0123456789';
const PEM_EXTRA_HEADER = /^\s*(?:Proc-Type|DEK-Info|Comment)\s*:|^\s*$/;
const BASE64_BODY = /^[A-Za-z0-9+/]{40,}={0,2}$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function indentOf(text: string): number {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i;
}

function printable(bytes: Buffer): string | null {
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return null;
  return bytes.toString('latin1');
}

export class LineContext {
  private path = '';
  private lineNo = -2;
  private open: Open | null = null;

  /**
   * Call for every line in order, before opened(). Returns the value that
   * the lines before said is on this one, if it looks like a secret.
   */
  follow(path: string, lineNo: number, text: string): Followed | null {
    const open = this.open;
    if (open === null) return this.remember(path, lineNo);
    const gap = path === this.path ? lineNo - open.line : -1;
    const last = this.lineNo;
    this.remember(path, lineNo);
    if (open.kind === 'pem') {
      if (gap < 1 || gap > 4) return this.close();
      return this.pemBody(text);
    }
    if (gap !== 1 && !(open.kind === 'section' && path === this.path && lineNo === last + 1)) return this.close();
    if (open.kind === 'element') {
      this.close();
      const value = text.replace(/<\/[^<>]{1,80}>\s*$/, '');
      return this.judge(value, text, 'value');
    }
    const indent = indentOf(text);
    if (indent === text.length) {
      open.line = lineNo;
      return null;
    }
    if (indent <= open.indent) {
      this.close();
      return null;
    }
    if (open.kind === 'block') {
      this.close();
      return this.judge(text, text, 'value');
    }
    open.line = lineNo;
    return this.sectionEntry(text, open.encoded);
  }

  /** Call for every line after its rules ran: notes what it opens for the next line. */
  opened(lineNo: number, text: string): void {
    if (this.open?.kind === 'section' && this.open.line === lineNo) return;
    // Cheap first: every opener ends in one of these characters.
    let end = text.length - 1;
    while (end >= 0 && (text.charCodeAt(end) === 0x20 || text.charCodeAt(end) === 0x09)) end--;
    if (end < 0 || !OPENER_ENDS.includes(text[end]!)) return;
    if (PEM_ALONE.test(text)) {
      this.open = { kind: 'pem', line: lineNo };
      return;
    }
    const section = SECTION_OPEN.exec(text);
    if (section !== null) {
      this.open = { kind: 'section', line: lineNo, indent: section[1]!.length, encoded: section[2] === 'data' };
      return;
    }
    const block = BLOCK_OPEN.exec(text);
    if (block !== null) {
      if (namesSecret(block[2]!)) this.open = { kind: 'block', line: lineNo, indent: block[1]!.length };
      return;
    }
    const element = NAMED_ELEMENT_OPEN.exec(text) ?? ELEMENT_OPEN.exec(text);
    if (element !== null && namesSecret(element[1]!.slice(element[1]!.lastIndexOf(':') + 1))) this.open = { kind: 'element', line: lineNo };
  }

  private remember(path: string, lineNo: number): null {
    this.path = path;
    this.lineNo = lineNo;
    return null;
  }

  private close(): null {
    this.open = null;
    return null;
  }

  private pemBody(text: string): Followed | null {
    if (PEM_EXTRA_HEADER.test(text)) return null;
    this.close();
    const trimmed = text.trim();
    const lead = /^["'`+\s]*/.exec(trimmed)![0].length;
    const body = trimmed.slice(lead).replace(/(?:\\{1,2}n)?["'`]?\s*[,;+]?\s*$/, '');
    if (!BASE64_BODY.test(body) || isPlaceholder(body, true) || shannonEntropy(body) < 4) return null;
    const start = text.indexOf(body);
    return { kind: 'private-key', start, end: start + body.length };
  }

  private judge(value: string, line: string, kind: FollowKind): Followed | null {
    let trimmed = value.trim();
    if (/^["'`]/.test(trimmed) && trimmed.endsWith(trimmed[0]!)) trimmed = trimmed.slice(1, -1);
    if (!plausibleStandaloneValue(trimmed)) return null;
    const start = line.indexOf(trimmed);
    return { kind, start, end: start + trimmed.length };
  }

  private sectionEntry(text: string, encoded: boolean): Followed | null {
    const entry = SECTION_ENTRY.exec(text);
    if (entry === null || namesNonSecret(entry[2]!)) return null;
    const raw = entry[3]!;
    let value = raw;
    if (encoded) {
      if (!STRICT_BASE64.test(raw)) return null;
      const decoded = printable(Buffer.from(raw, 'base64'));
      if (decoded === null) return null;
      value = decoded;
    }
    const start = text.indexOf(raw, entry[1]!.length + entry[2]!.length);
    // Judged here, on the decoded value: the generic rules must not judge the encoded text instead.
    if (!plausibleStandaloneValue(value)) return encoded ? { kind: 'kubernetes', start, end: start + raw.length, quiet: true } : null;
    return { kind: 'kubernetes', start, end: start + raw.length };
  }
}
