import type { FindingAction, PolicyCommand } from '../config/index.js';
import { safeLine } from '../text/index.js';
import type { Finding } from './types.js';

/**
 * External checks (policy.commands): an administrator's program gets the
 * push as JSON on stdin and answers on stdout. This module is the pure
 * half — the answer read into findings, and the finding for a program that
 * did not answer; src/hook/commands.ts runs the programs.
 *
 * The answer: `{"decision": "allow" | "park" | "deny", "findings": [{"rule",
 * "title", "action", "ref", "commit", "path", "line", "fix"}]}`. Every field
 * but `decision` is optional. A finding's rule id is `command.<name>` or
 * `command.<name>.<rule>`; its action defaults to the decision (park when
 * the decision is allow). A park or deny decision without a finding of that
 * action gets one. Text from the program is shown to the pusher, so it is
 * masked and escaped like every other finding.
 */

export const COMMAND_FAILED_FIX = 'The administrator\'s check could not decide on this push; a reviewer decides meanwhile (or push again later). Administrators: run the check by hand with the JSON it received (pushgate policy test --format json shows the push).';

/** The finding of a program that timed out, crashed or answered something unreadable: its onFailure, never allow. */
export function commandFailedRuleId(name: string): string {
  return `command.${name}.failed`;
}

export function commandFailure(command: PolicyCommand, why: string): Finding {
  return {
    ruleId: commandFailedRuleId(command.name), title: `the external check ${command.name} did not answer: ${safeLine(why).slice(0, 300)}`,
    action: command.onFailure, mode: command.mode, fix: COMMAND_FAILED_FIX,
  };
}

export class InvalidAnswer extends Error {}

const SUB_RULE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const MAX_FINDINGS = 200;

function isObj(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function shortText(value: unknown, what: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidAnswer(`${what} is not a string`);
  const line = safeLine(value);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Reads a program's answer; throws InvalidAnswer saying what is wrong with it. */
export function parseCommandAnswer(command: PolicyCommand, stdout: string): Finding[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch (error) {
    throw new InvalidAnswer(`its output is not JSON (${(error as Error).message.slice(0, 100)})`);
  }
  if (!isObj(data)) throw new InvalidAnswer('its output is not a JSON object');
  const decision = field(data, 'decision');
  if (decision !== 'allow' && decision !== 'park' && decision !== 'deny') throw new InvalidAnswer('"decision" must be "allow", "park" or "deny"');
  const given = field(data, 'findings') ?? [];
  if (!Array.isArray(given)) throw new InvalidAnswer('"findings" is not a list');
  if (given.length > MAX_FINDINGS) throw new InvalidAnswer(`more than ${MAX_FINDINGS} findings`);
  const base = `command.${command.name}`;
  const findings = given.map((raw, index): Finding => {
    if (!isObj(raw)) throw new InvalidAnswer(`findings[${index}] is not an object`);
    const rule = field(raw, 'rule');
    if (rule !== undefined && (typeof rule !== 'string' || !SUB_RULE.test(rule) || rule === 'failed')) throw new InvalidAnswer(`findings[${index}].rule must be lowercase letters, digits, _ and - (and not "failed")`);
    const action = field(raw, 'action') ?? (decision === 'allow' ? 'park' : decision);
    if (action !== 'park' && action !== 'deny') throw new InvalidAnswer(`findings[${index}].action must be "park" or "deny"`);
    const commit = field(raw, 'commit');
    const line = field(raw, 'line');
    const finding: Finding = {
      ruleId: rule === undefined ? base : `${base}.${rule}`,
      title: shortText(field(raw, 'title'), `findings[${index}].title`, 300) ?? `the external check ${command.name} found a problem`,
      action: action as FindingAction,
      mode: command.mode,
      fix: shortText(field(raw, 'fix'), `findings[${index}].fix`, 300) ?? `Ask an administrator what the check ${command.name} requires.`,
    };
    const ref = shortText(field(raw, 'ref'), `findings[${index}].ref`, 300);
    const path = shortText(field(raw, 'path'), `findings[${index}].path`, 1000);
    if (ref !== undefined) finding.ref = ref;
    if (path !== undefined) finding.path = path;
    if (typeof commit === 'string' && OID.test(commit)) finding.commit = commit;
    if (typeof line === 'number' && Number.isInteger(line) && line > 0) finding.line = line;
    return finding;
  });
  if (decision !== 'allow' && !findings.some((f) => f.action === decision)) {
    findings.push({ ruleId: base, title: `the external check ${command.name} answered ${decision}`, action: decision, mode: command.mode, fix: `Ask an administrator what the check ${command.name} requires.` });
  }
  return findings;
}

/** The rule ids a command can report: what policy.rules may name. */
export function commandRuleIds(commands: readonly PolicyCommand[]): string[] {
  return commands.flatMap((c) => [`command.${c.name}`, commandFailedRuleId(c.name)]);
}
