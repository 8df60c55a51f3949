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

export class Prefilter {
  /** Every UTF-16 code unit's class, so the loop needs no range check. */
  private readonly classOf = new Uint8Array(65536);
  private readonly classes: number;
  /** Transitions, indexed by row (state × classes) + class, holding the target's row. */
  private readonly delta: Int32Array;
  /** Indexed by row: 1 when the state ends at least one keyword. */
  private readonly accepting: Uint8Array;
  /** For each state: the rule indices its keywords (and their suffixes) stand for. */
  private readonly outputs: Int32Array[];
  private readonly alwaysOn: number[];
  private readonly seenEpoch: Uint32Array;
  private epoch = 0;
  /**
   * For mayMatch, which stops at the first accepting state: each byte's class,
   * negative for the base64/hex alphabet; and the transitions with -1 for
   * "reaches an accepting state". One table read fewer per byte each.
   */
  private readonly byteInfo = new Int32Array(256);
  private readonly deltaOrAccept: Int32Array;

  constructor(ruleKeywords: readonly (readonly string[])[]) {
    const alwaysOn: number[] = [];
    const keywords: { word: string; rule: number }[] = [];
    ruleKeywords.forEach((words, rule) => {
      if (words.length === 0) alwaysOn.push(rule);
      for (const word of words) keywords.push({ word: word.toLowerCase(), rule });
    });
    this.alwaysOn = alwaysOn;
    this.seenEpoch = new Uint32Array(ruleKeywords.length);

    // Class 0 is "any character no keyword uses"; upper-case letters share their lower-case class.
    let next = 1;
    for (const { word } of keywords) {
      for (const ch of word) {
        const code = ch.charCodeAt(0);
        if (code >= 128) throw new Error(`keyword ${JSON.stringify(word)}: only ASCII keywords are supported`);
        if (this.classOf[code] === 0) this.classOf[code] = next++;
      }
    }
    for (let c = 65; c <= 90; c++) this.classOf[c] = this.classOf[c + 32]!;
    this.classes = next;

    // Trie.
    const goto: Map<number, number>[] = [new Map()];
    const ruleSets: Set<number>[] = [new Set()];
    for (const { word, rule } of keywords) {
      let state = 0;
      for (const ch of word) {
        const cls = this.classOf[ch.charCodeAt(0)]!;
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
    const delta = new Int32Array(states * this.classes);
    const fail = new Int32Array(states);
    const queue: number[] = [];
    for (let cls = 0; cls < this.classes; cls++) {
      const target = goto[0]!.get(cls);
      delta[cls] = target ?? 0;
      if (target !== undefined) queue.push(target);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const rule of ruleSets[fail[state]!]!) ruleSets[state]!.add(rule);
      for (let cls = 0; cls < this.classes; cls++) {
        const target = goto[state]!.get(cls);
        if (target === undefined) {
          delta[state * this.classes + cls] = delta[fail[state]! * this.classes + cls]!;
        } else {
          fail[target] = delta[fail[state]! * this.classes + cls]!;
          delta[state * this.classes + cls] = target;
          queue.push(target);
        }
      }
    }
    for (let i = 0; i < delta.length; i++) delta[i] = delta[i]! * this.classes;
    this.delta = delta;
    this.accepting = new Uint8Array(delta.length);
    ruleSets.forEach((set, state) => {
      if (set.size > 0) this.accepting[state * this.classes] = 1;
    });
    this.outputs = ruleSets.map((set) => Int32Array.from([...set].sort((a, b) => a - b)));
    this.deltaOrAccept = delta.map((row) => (this.accepting[row] === 1 ? -1 : row));
    for (let b = 0; b < 256; b++) this.byteInfo[b] = this.classOf[b]! | (ENCODED_MASK[b]! & 0x80000000);
  }

  run(line: string): PrefilterResult {
    const { classOf, classes, delta, accepting, outputs } = this;
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
    const { byteInfo, deltaOrAccept } = this;
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

  private resetEpoch(): void {
    this.seenEpoch.fill(0);
    this.epoch = 1;
  }
}
