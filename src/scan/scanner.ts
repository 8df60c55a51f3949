import { CompiledAllowlist } from './allowlist.js';
import { findEncoded } from './decode.js';
import { shannonEntropy } from './entropy.js';
import { matchFileRule } from './filenames.js';
import { fingerprint } from './fingerprint.js';
import { isLooseLookalike, isPlaceholder, isReference } from './lookalike.js';
import { maskSecret } from './mask.js';
import { Prefilter } from './prefilter.js';
import { LineContext, type FollowKind } from './multiline.js';
import { contextRules, rules } from './rules.js';
import type { Confidence, MatchContext, ScanOptions, SecretFinding, SecretRule } from './types.js';

const DEFAULT_ENTROPY = 3;
const INLINE_MARKER = 'pushgate:allow';

/**
 * Dependency lock files are machine-written: integrity hashes and resolved
 * URLs everywhere, no hand-written assignments. Only the exactly shaped rules
 * run there (a token or a password inside a resolved URL is still found).
 */
const LOCKFILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'deno.lock',
  'cargo.lock', 'go.sum', 'go.work.sum', 'poetry.lock', 'pipfile.lock', 'uv.lock', 'pdm.lock', 'gemfile.lock',
  'composer.lock', 'mix.lock', 'pubspec.lock', 'podfile.lock', 'package.resolved', 'packages.lock.json',
  'flake.lock', 'gradle.lockfile', 'conan.lock', 'paket.lock', 'cartfile.resolved', 'shard.lock',
]);

function isLockfile(path: string): boolean {
  const base = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1).toLowerCase();
  return LOCKFILES.has(base);
}

interface CompiledRule {
  readonly rule: SecretRule;
  readonly regex: RegExp;
  readonly entropy: number;
  readonly confidence: Confidence;
}

/** A match that passed every check; it holds the plaintext and never leaves this module. */
interface Hit {
  readonly rule: SecretRule;
  readonly secret: string;
  start: number;
  end: number;
  readonly confidence: Confidence;
  encoded?: 'base64' | 'hex';
}

interface Span {
  start: number;
  end: number;
  /** Claimed by a loose rule: a decoded finding in the same place may replace it. */
  loose: boolean;
}

interface PathState {
  skip: boolean;
  lockfile: boolean;
}

/** The decoded form of an encoded value, or the password part of `user:password`, could be a secret. */
function plausibleDecodedSecret(decoded: string): boolean {
  const value = decoded.slice(decoded.lastIndexOf(':') + 1).trim();
  return shannonEntropy(value) >= DEFAULT_ENTROPY && !/\s/.test(value) && !isPlaceholder(value, true) && !isLooseLookalike(value);
}

function overlaps(spans: readonly Span[], start: number, end: number, onlyExact = false): boolean {
  for (const span of spans) if (span.start < end && start < span.end && !(onlyExact && span.loose)) return true;
  return false;
}

let prefilter: Prefilter | undefined;

/** Two ascending lists of rule indices as one, without duplicates. */
function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x <= y) {
      out.push(x);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/**
 * What the filter carries from one line to the next: a line that opens a
 * value on the following lines (a PEM header, `<password>`, `password: |`,
 * a Kubernetes `data:` section) lets the next line, or every more indented
 * line and the one that ends them, through, so the scanner sees them. The
 * carry holds only for the line right after, in the same buffer (a diff's
 * `\n+` or a blob's `\n` apart), so callers that filter several streams
 * in turn (two diff processes) never pass it from one to another.
 */
let carryBuf: Uint8Array | undefined;
let carryEnd = -1;
let carryNext = false;
let carryIndent = -1;
const OPENS_BLOCK = /(?:^|[\s"'])(?:data|stringData)\s*:\s*$|:\s*[|>][-+]?[0-9]?\s*$/;

function leadingBlanks(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  return i - start;
}

/**
 * A cheap first look at a line's UTF-8 bytes: false means no scanner would
 * find anything in it, whatever the path or allowlist. Needs no scanner, so
 * it can run before the allowlist is known. Lines of one text come in order.
 */
export function lineMayHoldSecret(buf: Uint8Array, start: number, end: number): boolean {
  const follows = buf === carryBuf && start > carryEnd && start - carryEnd <= 3;
  let pass = follows && carryNext;
  carryNext = false;
  if (!follows) carryIndent = -1;
  if (carryIndent >= 0) {
    // Inside a block every line passes; a non-blank line indented no deeper than its opener ends it.
    const indent = leadingBlanks(buf, start, end);
    pass = true;
    if (start + indent < end && indent <= carryIndent) carryIndent = -1;
  }
  carryBuf = buf;
  carryEnd = end;
  if (!sharedPrefilter().mayMatch(buf, start, end)) return pass;
  let last = end - 1;
  while (last > start && (buf[last] === 0x20 || buf[last] === 0x09 || buf[last] === 0x0d)) last--;
  const tail = buf[last];
  // - > | : + " ' , and a digit (`|2`): a line that may open a value on the next lines.
  if (tail === 0x2d || tail === 0x3e || tail === 0x7c || tail === 0x3a || tail === 0x2b || tail === 0x22 || tail === 0x27 || tail === 0x2c || (tail !== undefined && tail >= 0x30 && tail <= 0x39)) {
    carryNext = true;
    const from = Math.max(start, last - 40);
    const text = Buffer.from(buf.buffer, buf.byteOffset + from, last + 1 - from).toString('latin1');
    if (OPENS_BLOCK.test(text)) carryIndent = leadingBlanks(buf, start, end);
  }
  return true;
}

/** The rules never change, so every scanner shares one automaton (building it is the costly part). */
function sharedPrefilter(): Prefilter {
  prefilter ??= new Prefilter([...rules, ...contextRules].map((rule) => (rule.onEncodedRun === true ? null : rule.keywords)));
  return prefilter;
}

/**
 * Web asset names with a content hash (`ico-<32 hex>.png`, `app.<hash>.js`):
 * a value that ends in lower-case hex and goes on with an asset extension is
 * a file name. A token in a file name (`<token>.txt`, mixed case) still counts.
 */
const ASSET_AFTER = /^\.(?:png|jpe?g|gif|svg|ico|webp|avif|bmp|css|s[ac]ss|less|m?js|cjs|map|woff2?|ttf|otf|eot|wasm|mp[34]|webm)\b/i;
const CONTENT_HASH_END = /^[^A-Z]*[0-9a-f]{16}$/;

/**
 * Finds credentials in lines of text. One instance per allowlist; it keeps a
 * little state between calls (the last path's classification) and is not
 * meant to be shared between concurrent scans.
 */
export class SecretScanner {
  private readonly compiled: CompiledRule[];
  private readonly prefilter: Prefilter;
  private readonly allowlist: CompiledAllowlist;
  /** Rules tried on lines with a long base64/hex run instead of by keyword. */
  private readonly onEncodedRun: number[];
  private readonly context = new LineContext();
  private readonly followRules: Record<FollowKind, CompiledRule>;
  private lastPath: string | undefined;
  private lastState: PathState = { skip: false, lockfile: false };

  constructor(options: ScanOptions = {}) {
    this.compiled = rules.map((rule) => ({
      rule,
      // d: group indices give the secret's position; g: every occurrence in a line.
      regex: new RegExp(rule.regex.source, `${rule.regex.flags.replace(/[dgy]/g, '')}dg`),
      entropy: rule.entropy ?? DEFAULT_ENTROPY,
      confidence: rule.confidence ?? 'high',
    }));
    this.prefilter = sharedPrefilter();
    this.onEncodedRun = rules.flatMap((rule, index) => (rule.onEncodedRun === true ? [index] : []));
    const byId = (id: string): CompiledRule => this.compiled.find((c) => c.rule.id === id) ?? {
      rule: contextRules.find((rule) => rule.id === id)!, regex: /(?!)/dg, entropy: 0, confidence: 'high',
    };
    this.followRules = { 'private-key': byId('secret.private-key'), value: byId('secret.generic-assignment'), kubernetes: byId('secret.kubernetes-secret') };
    this.allowlist = new CompiledAllowlist(options.allowlist);
  }

  /** Findings in one line of the file at `path` (an added line of a diff, or a line of a file). */
  scanLine(path: string, lineNo: number, text: string): SecretFinding[] {
    const state = this.pathState(path);
    if (state.skip) return [];
    const followed = this.context.follow(path, lineNo, text);
    const run = this.prefilter.run(text);
    let candidates = run.rules;
    const encodedAt = run.encodedAt;
    const decode = encodedAt >= 0 && !state.lockfile;
    if (candidates.length > 0 || decode) this.context.opened(lineNo, text);
    if (candidates.length === 0 && !decode && followed === null) return [];
    if (candidates.length > 0 && candidates[candidates.length - 1]! >= this.compiled.length) candidates = candidates.filter((index) => index < this.compiled.length);
    if (encodedAt >= 0 && this.onEncodedRun.length > 0) candidates = mergeSorted(candidates, this.onEncodedRun);

    const claimed: Span[] = [];
    const hits: Hit[] = [];
    if (followed?.quiet === true) claimed.push({ start: followed.start, end: followed.end, loose: true });
    else if (followed !== null) {
      const compiled = this.followRules[followed.kind];
      claimed.push({ start: followed.start, end: followed.end, loose: false });
      hits.push({ rule: compiled.rule, secret: text.slice(followed.start, followed.end), start: followed.start, end: followed.end, confidence: followed.kind === 'value' ? 'medium' : 'high' });
    }
    this.match(text, candidates, state.lockfile, hits, claimed);
    if (decode) this.matchEncoded(text, encodedAt, hits, claimed);
    if (hits.length === 0) return [];

    const inlineAllow = text.includes(INLINE_MARKER);
    const findings: SecretFinding[] = [];
    for (const hit of hits) {
      const print = fingerprint(hit.rule.id, hit.secret);
      if (this.allowlist.allowsFingerprint(print) || this.allowlist.allowsValue(hit.secret)) continue;
      const finding: SecretFinding = {
        ruleId: hit.rule.id,
        title: hit.rule.title,
        path,
        line: lineNo,
        column: hit.start + 1,
        start: hit.start,
        end: hit.end,
        masked: maskSecret(hit.secret),
        fingerprint: print,
        inlineAllow,
        fix: hit.rule.fix,
        confidence: hit.confidence,
      };
      if (hit.encoded !== undefined) finding.encoded = hit.encoded;
      findings.push(finding);
    }
    return findings.sort((a, b) => a.start - b.start);
  }

  /** Findings in a whole file's text, line by line. */
  scanText(path: string, text: string): SecretFinding[] {
    const findings: SecretFinding[] = [];
    let lineNo = 0;
    let from = 0;
    while (from < text.length) {
      let to = text.indexOf('\n', from);
      if (to < 0) to = text.length;
      const line = text.charCodeAt(to - 1) === 13 ? text.slice(from, to - 1) : text.slice(from, to);
      lineNo++;
      for (const finding of this.scanLine(path, lineNo, line)) findings.push(finding);
      from = to + 1;
    }
    return findings;
  }

  /**
   * A finding when the file's name says it holds a secret (`id_rsa`, `.env`,
   * `*.p12`, …); its `decides` says whether the name alone decides.
   */
  scanPath(path: string): SecretFinding | null {
    if (this.allowlist.allowsPath(path)) return null;
    const rule = matchFileRule(path);
    if (rule === null) return null;
    const print = fingerprint(rule.id, path);
    if (this.allowlist.allowsFingerprint(print)) return null;
    return {
      ruleId: rule.id,
      title: rule.title,
      path,
      line: 0,
      column: 0,
      start: 0,
      end: 0,
      masked: '',
      fingerprint: print,
      inlineAllow: false,
      decides: rule.decides,
      fix: rule.fix,
      confidence: rule.confidence,
    };
  }

  private pathState(path: string): PathState {
    if (path !== this.lastPath) {
      this.lastPath = path;
      this.lastState = { skip: this.allowlist.allowsPath(path), lockfile: isLockfile(path) };
    }
    return this.lastState;
  }

  private match(text: string, ruleIndices: readonly number[], lockfile: boolean, hits: Hit[], claimed: Span[]): void {
    for (const index of ruleIndices) {
      const compiled = this.compiled[index]!;
      if (lockfile && compiled.rule.loose === true) continue;
      const requires = compiled.rule.requires;
      if (requires !== undefined && !requires.some((literal) => text.includes(literal))) continue;
      const regex = compiled.regex;
      regex.lastIndex = 0;
      let match: RegExpExecArray | null;
      while ((match = regex.exec(text)) !== null) {
        const [start, end] = match.indices!.groups?.['secret'] ?? match.indices![0]!;
        if (overlaps(claimed, start, end)) continue;
        const secret = text.slice(start, end);
        const verdict = this.judge(compiled, secret, { line: text, start, end, groups: match.groups ?? {} });
        const loose = compiled.rule.loose === true;
        if (verdict === false) {
          // A failed exact format (bad checksum, example key) is still not a job for the loose rules.
          if (!loose) claimed.push({ start, end, loose });
          continue;
        }
        claimed.push({ start, end, loose });
        hits.push({ rule: compiled.rule, secret, start, end, confidence: verdict === true ? compiled.confidence : verdict });
      }
    }
  }

  private judge(compiled: CompiledRule, secret: string, context: MatchContext): boolean | Confidence {
    const loose = compiled.rule.loose === true;
    if (compiled.entropy > 0 && shannonEntropy(secret) < compiled.entropy) return false;
    if (isPlaceholder(secret, loose)) return false;
    if (loose && (isReference(secret) || isLooseLookalike(secret))) return false;
    if (!loose && context.line.charCodeAt(context.end) === 0x2e && CONTENT_HASH_END.test(secret) && ASSET_AFTER.test(context.line.slice(context.end, context.end + 8))) return false;
    return compiled.rule.validate?.(secret, context) ?? true;
  }

  /**
   * Decodes base64 / hex values once and scans the result; findings point at
   * the encoded text. What the decoded text reveals is more precise than a
   * loose rule's guess about the encoded value, so it replaces that guess, and
   * a guess whose decoded value is a placeholder (`not my real password`) is
   * dropped.
   */
  private matchEncoded(text: string, from: number, hits: Hit[], claimed: Span[]): void {
    for (const value of findEncoded(text, from)) {
      if (overlaps(claimed, value.start, value.end, true)) continue;
      const inner: Hit[] = [];
      // The decoded text is a little file of its own: its lines follow each other (a PEM header, then its body).
      const context = new LineContext();
      value.decoded.split(/\r?\n/).forEach((line, index) => {
        const followed = context.follow('', index + 1, line);
        if (followed !== null && followed.quiet !== true) {
          const rule = this.followRules[followed.kind];
          inner.push({ rule: rule.rule, secret: line.slice(followed.start, followed.end), start: 0, end: 0, confidence: 'high' });
        }
        const { rules: found } = this.prefilter.run(line);
        const candidates = found.filter((index) => index < this.compiled.length);
        if (found.length > 0) context.opened(index + 1, line);
        if (candidates.length > 0) this.match(line, candidates, false, inner, []);
      });
      const guessed = hits.filter((hit) => hit.start < value.end && value.start < hit.end);
      if (inner.length === 0 && (guessed.length === 0 || plausibleDecodedSecret(value.decoded))) continue;
      for (const hit of guessed) hits.splice(hits.indexOf(hit), 1);
      claimed.push({ start: value.start, end: value.end, loose: false });
      for (const hit of inner) {
        hit.start = value.start;
        hit.end = value.end;
        hit.encoded = value.encoding;
        hits.push(hit);
      }
    }
  }
}
