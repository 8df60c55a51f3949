/**
 * One pass over a line that tells which rules can possibly match it: an
 * Aho-Corasick automaton over all rule keywords (ASCII case folded), compiled
 * to a dense DFA so the inner loop is a few array reads per character. The
 * same pass notices runs of base64/hex characters long enough to be worth
 * decoding.
 */
import { MIN_ENCODED_LENGTH } from './decode.js';

/** -1 for base64 / hex alphabet characters, 0 otherwise: a mask that keeps or resets the run length. */
const ENCODED_MASK = new Int32Array(65536);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_') ENCODED_MASK[ch.charCodeAt(0)] = -1;

export interface PrefilterResult {
  /** Indices of the rules whose keywords occur in the line, in rule order. */
  rules: number[];
  /** Where the first run of base64 / hex characters long enough to decode starts; -1 if none. */
  encodedAt: number;
}

/** The automaton, built on first need. */
interface Tables {
  /** Every UTF-16 code unit's class, so the loop needs no range check. */
  classOf: Uint8Array;
  classes: number;
  /** Transitions, indexed by row (state × classes) + class, holding the target's row. */
  delta: Int32Array;
  /** Indexed by row: 1 when the state ends at least one keyword. */
  accepting: Uint8Array;
  /** For each state: the rule indices its keywords (and their suffixes) stand for. */
  outputs: Int32Array[];
  /**
   * For mayMatch, which stops at the first accepting state: each byte's class,
   * negative for the base64/hex alphabet; and the transitions with -1 for
   * "reaches an accepting state". One table read fewer per byte each.
   */
  byteInfo: Int32Array;
  deltaOrAccept: Int32Array;
}

/**
 * Below this many bytes seen by mayMatch, building the automaton costs more
 * than searching for each keyword: most pushes are a few lines.
 */
const DIRECT_SEARCH_BYTES = 16 * 1024;

export class Prefilter {
  private readonly keywords: { word: string; rule: number }[] = [];
  /** Each distinct keyword once, for the direct search. */
  private readonly words: string[];
  private readonly alwaysOn: number[];
  private readonly seenEpoch: Uint32Array;
  private epoch = 0;
  private built: Tables | undefined;
  private searched = 0;
  private readonly searchable: boolean;

  /** `null`: a rule never chosen by keyword (the caller runs it on encoded runs). */
  constructor(ruleKeywords: readonly (readonly string[] | null)[]) {
    const alwaysOn: number[] = [];
    ruleKeywords.forEach((words, rule) => {
      if (words === null) return;
      if (words.length === 0) alwaysOn.push(rule);
      for (const word of words) {
        const lower = word.toLowerCase();
        for (const ch of lower) if (ch.charCodeAt(0) >= 128) throw new Error(`keyword ${JSON.stringify(word)}: only ASCII keywords are supported`);
        this.keywords.push({ word: lower, rule });
      }
    });
    this.alwaysOn = alwaysOn;
    this.seenEpoch = new Uint32Array(ruleKeywords.length);
    this.words = [...new Set(this.keywords.map((k) => k.word))];
    // An empty keyword is in every line, and the automaton says so only for non-empty ones: it goes that way.
    this.searchable = !this.words.includes('');
  }

  private tables(): Tables {
    if (this.built !== undefined) return this.built;
    const keywords = this.keywords;
    const classOf = new Uint8Array(65536);
    // Class 0 is "any character no keyword uses"; upper-case letters share their lower-case class.
    let next = 1;
    for (const { word } of keywords) {
      for (const ch of word) {
        const code = ch.charCodeAt(0);
        if (classOf[code] === 0) classOf[code] = next++;
      }
    }
    for (let c = 65; c <= 90; c++) classOf[c] = classOf[c + 32]!;
    const classes = next;

    // Trie.
    const goto: Map<number, number>[] = [new Map()];
    const ruleSets: Set<number>[] = [new Set()];
    for (const { word, rule } of keywords) {
      let state = 0;
      for (const ch of word) {
        const cls = classOf[ch.charCodeAt(0)]!;
        let target = goto[state]!.get(cls);
        if (target === undefined) {
          target = goto.length;
          goto.push(new Map());
          ruleSets.push(new Set());
          goto[state]!.set(cls, target);
        }
        state = target;
      }
      ruleSets[state]!.add(rule);
    }

    // Breadth-first: failure links, merged outputs, dense transitions.
    const states = goto.length;
    const delta = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 0; cls < classes; cls++) {
      const target = goto[0]!.get(cls);
      delta[cls] = target ?? 0;
      if (target !== undefined) queue.push(target);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const rule of ruleSets[fail[state]!]!) ruleSets[state]!.add(rule);
      for (let cls = 0; cls < classes; cls++) {
        const target = goto[state]!.get(cls);
        if (target === undefined) {
          delta[state * classes + cls] = delta[fail[state]! * classes + cls]!;
        } else {
          fail[target] = delta[fail[state]! * classes + cls]!;
          delta[state * classes + cls] = target;
          queue.push(target);
        }
      }
    }
    for (let i = 0; i < delta.length; i++) delta[i] = delta[i]! * classes;
    const accepting = new Uint8Array(delta.length);
    ruleSets.forEach((set, state) => {
      if (set.size > 0) accepting[state * classes] = 1;
    });
    const outputs = ruleSets.map((set) => Int32Array.from([...set].sort((a, b) => a - b)));
    const deltaOrAccept = delta.map((row) => (accepting[row] === 1 ? -1 : row));
    const byteInfo = new Int32Array(256);
    for (let b = 0; b < 256; b++) byteInfo[b] = classOf[b]! | (ENCODED_MASK[b]! & 0x80000000);
    this.built = { classOf, classes, delta, accepting, outputs, byteInfo, deltaOrAccept };
    return this.built;
  }

  run(line: string): PrefilterResult {
    const { classOf, classes, delta, accepting, outputs } = this.tables();
    const seen = this.seenEpoch;
    if (++this.epoch === 0xffffffff) this.resetEpoch();
    const epoch = this.epoch;
    const rules: number[] = [];
    for (const rule of this.alwaysOn) {
      seen[rule] = epoch;
      rules.push(rule);
    }
    // The branches in the inner loop are almost never taken, so they cost next to nothing.
    let row = 0;
    let run = 0;
    let encodedAt = -1;
    const n = line.length;
    for (let i = 0; i < n; i++) {
      const code = line.charCodeAt(i);
      row = delta[row + classOf[code]!]!;
      run = (run + 1) & ENCODED_MASK[code]!;
      if (run === MIN_ENCODED_LENGTH && encodedAt < 0) encodedAt = i + 1 - MIN_ENCODED_LENGTH;
      if (accepting[row] === 1) {
        const out = outputs[row / classes]!;
        for (let k = 0; k < out.length; k++) {
          const rule = out[k]!;
          if (seen[rule] !== epoch) {
            seen[rule] = epoch;
            rules.push(rule);
          }
        }
      }
    }
    if (rules.length > 1) rules.sort((a, b) => a - b);
    return { rules, encodedAt };
  }

  /**
   * Whether `run` on this text would find a candidate rule or an encoded
   * value, decided on raw UTF-8 bytes and stopping at the first sign. Keywords
   * and the base64/hex alphabet are ASCII, so bytes give the same answer as
   * code units, and a line that says no never has to become a string.
   */
  mayMatch(buf: Uint8Array, start: number, end: number): boolean {
    if (this.alwaysOn.length > 0) return true;
    let tables = this.built;
    if (tables === undefined) {
      this.searched += end - start;
      if (this.searchable && this.searched <= DIRECT_SEARCH_BYTES) return this.searchDirectly(buf, start, end);
      tables = this.tables();
    }
    const { byteInfo, deltaOrAccept } = tables;
    let row = 0;
    let run = 0;
    for (let i = start; i < end; i++) {
      const info = byteInfo[buf[i]!]!;
      row = deltaOrAccept[row + (info & 0xffff)]!;
      // info >> 31 is -1 for the alphabet (keeps the run) and 0 otherwise (resets it).
      run = (run + 1) & (info >> 31);
      if (row < 0 || run === MIN_ENCODED_LENGTH) return true;
    }
    return false;
  }

  /** mayMatch without the automaton: the same answer, from a search for each keyword. */
  private searchDirectly(buf: Uint8Array, start: number, end: number): boolean {
    let run = 0;
    for (let i = start; i < end; i++) {
      run = (run + 1) & ENCODED_MASK[buf[i]!]!;
      if (run === MIN_ENCODED_LENGTH) return true;
    }
    // Latin-1 keeps one character per byte; lower-casing it folds A-Z as the
    // automaton does and never turns a byte of 0x80 or more into ASCII.
    const text = Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1').toLowerCase();
    for (const word of this.words) if (text.includes(word)) return true;
    return false;
  }

  private resetEpoch(): void {
    this.seenEpoch.fill(0);
    this.epoch = 1;
  }
}
