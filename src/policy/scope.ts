import { minimatch } from 'minimatch';
import type { CheckScope, RuleScope, TextRule } from '../config/index.js';
import type { Finding, Pusher } from './types.js';

/** Whether a rule scoped by roles applies to this pusher: no roles = everyone, as in policy.protect. */
export function appliesToPusher(scope: Pick<CheckScope, 'roles'>, pusher: Pusher): boolean {
  return scope.roles.length === 0 || scope.roles.some((role) => pusher.roles.includes(role));
}

/** Whether a rule scoped by refs looks at an update of `ref` (full ref globs, as in policy.protect). */
export function appliesToRef(scope: Pick<CheckScope, 'refs'>, ref: string): boolean {
  return scope.refs.some((pattern) => minimatch(ref, pattern, { dot: true }));
}

/** Whether a catalogue rule entry applies to an update of `ref` by `pusher` (see config/policy-rules.ts). */
export function inScope(rule: RuleScope, ref: string, pusher: Pusher): boolean {
  return appliesToRef(rule, ref) && appliesToPusher(rule, pusher);
}

/** A finding of a catalogue rule entry: its action and mode, the rest from the check. */
export function ruleFinding(rule: RuleScope, finding: Omit<Finding, 'action' | 'mode'>): Finding {
  return { ...finding, action: rule.action, mode: rule.mode };
}

/** The first line of pushed text, cut short: findings quote it (masked and escaped where shown). */
export function excerptOf(text: string, max = 120): string {
  const line = text.split('\n', 1)[0]!;
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** Collects findings once per (rule id, ref, commit, path, entry): a commit several updated refs bring is reported once per ref. */
export class FindingSet {
  private readonly seen = new Set<string>();
  readonly findings: Finding[] = [];

  add(key: string, finding: Finding): void {
    const full = `${finding.ruleId}\0${finding.ref ?? ''}\0${finding.commit ?? ''}\0${finding.path ?? ''}\0${key}`;
    if (this.seen.has(full)) return;
    this.seen.add(full);
    this.findings.push(finding);
  }
}

/**
 * Regular expressions compiled once per push, in Unicode mode as validated;
 * commit messages also with `m`, so that ^ and $ match at line ends (trailers).
 */
export class Patterns {
  private readonly cache = new Map<string, RegExp>();

  constructor(private readonly flags: 'u' | 'mu' = 'u') {}

  get(source: string): RegExp {
    let re = this.cache.get(source);
    if (re === undefined) {
      re = new RegExp(source, this.flags);
      this.cache.set(source, re);
    }
    return re;
  }
}

/** The longest text a pattern rule is run over. */
export const MAX_PATTERN_TEXT = 65536;

/** A text rule's verdict on `value`: what is wrong with it, or undefined. */
export function textProblem(rule: TextRule, value: string, patterns: Patterns, what: string): string | undefined {
  // An administrator's pattern may backtrack badly on long text: text beyond the bound fails the rule rather than stalling the hook.
  if (value.length > MAX_PATTERN_TEXT) return `${what} is longer than ${MAX_PATTERN_TEXT} characters, more than pattern rules check`;
  const wanted = rule.description ?? `/${rule.require}/`;
  if (rule.require !== undefined && !patterns.get(rule.require).test(value)) return `${what} does not match the required pattern (${wanted})`;
  if (rule.forbid !== undefined && patterns.get(rule.forbid).test(value)) return `${what} matches a forbidden pattern (${rule.description ?? `/${rule.forbid}/`})`;
  return undefined;
}

