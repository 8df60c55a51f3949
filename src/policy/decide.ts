import type { PolicyConfig } from '../config/index.js';
// Not the config index: that would load the schema library on every push.
import { ruleIdMatches } from '../config/rule-ids.js';
import { maskText, safeLine } from '../text/index.js';
import { ALLOWLIST_CHANGE_RULE } from './allowlist.js';
import { INCOMPLETE_RULE } from './incomplete.js';
import type { Decision, Finding, PushOptions, Pusher } from './types.js';

export { INCOMPLETE_RULE };

/**
 * Rules no override or audit mode can soften: the queue's namespace is never
 * writable (in any spelling), no ref may be named like HEAD or @, a push
 * that could not be checked is never allowed, and a change to the allowlist
 * file always waits for a reviewer. (Ids as in refs.ts, which this module
 * does not load.)
 */
const FIXED_RULES = new Set(['ref.reserved-namespace', 'ref.reserved-name', INCOMPLETE_RULE.id, ALLOWLIST_CHANGE_RULE.id]);

/**
 * An external check that did not answer (policy.commands): its onFailure
 * and its command's own mode stand, whatever policy.rules or policy.mode
 * say, so no override turns a check that could not run into an allow.
 */
const COMMAND_FAILED = /^command\.[a-z0-9-]+\.failed$/;

export interface Outcome {
  decision: Decision;
  /** Every finding, enforced and audit-only, after overrides. */
  findings: Finding[];
  /** A reason given with the push options, recorded with the decision. */
  reason?: string;
  /** The pusher asked for review (`-o review=…`). */
  reviewRequested: boolean;
}

/**
 * Folds findings into one decision for the whole push: deny > park > allow.
 * Overrides from config apply first (later entries win), then the pusher's
 * requests, which can only soften a secret deny into a park, never allow it.
 */
export function decide(findings: readonly Finding[], policy: PolicyConfig, pusher: Pusher, options: PushOptions): Outcome {
  const review = options.values.get(policy.reviewPushOption);
  const given = review || options.values.get(policy.reasonPushOption) || undefined;
  // Already masked (pushOptionsFromEnv); shown and stored as one line.
  const reason = given === undefined ? undefined : safeLine(given);
  const trusted = pusher.roles.some((r) => policy.trustedRoles.includes(r));
  const out: Finding[] = [];
  for (const original of findings) {
    if (FIXED_RULES.has(original.ruleId)) {
      out.push({ ...original, mode: 'enforce' });
      continue;
    }
    if (COMMAND_FAILED.test(original.ruleId)) {
      out.push({ ...original });
      continue;
    }
    const finding: Finding = { ...original };
    let off = false;
    for (const override of policy.rules) {
      if (!ruleIdMatches(override.rule, finding.ruleId)) continue;
      off = override.action === 'off';
      if (override.action !== undefined && override.action !== 'off') finding.action = override.action;
      if (override.mode !== undefined) finding.mode = override.mode;
    }
    if (off) continue;
    if (policy.mode === 'audit') finding.mode = 'audit';
    const isSecret = finding.ruleId.startsWith('secret.');
    if (isSecret && finding.inlineAllow) {
      if (trusted) continue;
      if (finding.action === 'deny') {
        finding.action = 'park';
        finding.note = 'marked pushgate:allow by a pusher whose role is not trusted: a reviewer decides';
      }
    }
    if (isSecret && review !== undefined && finding.action === 'deny') {
      finding.action = 'park';
      finding.note = 'the pusher asked for review';
    }
    delete finding.inlineAllow;
    out.push(finding);
  }
  const enforced = out.filter((f) => f.mode === 'enforce');
  const decision: Decision = enforced.some((f) => f.action === 'deny') ? 'deny' : enforced.some((f) => f.action === 'park') ? 'park' : 'allow';
  return { decision, findings: out, reviewRequested: review !== undefined, ...(reason !== undefined ? { reason } : {}) };
}

/**
 * `GIT_PUSH_OPTION_COUNT` / `GIT_PUSH_OPTION_<n>` into a map. Every value
 * comes out masked like a finding's excerpt: a credential a pusher writes into
 * `-o reason=…` is never kept, shown or recorded in plaintext by anything
 * downstream (decision, message, audit record, queue record).
 */
export function pushOptionsFromEnv(env: NodeJS.ProcessEnv): PushOptions {
  const count = Number(env.GIT_PUSH_OPTION_COUNT ?? 0);
  const raw: string[] = [];
  for (let i = 0; i < (Number.isInteger(count) ? Math.min(count, 100) : 0); i++) raw.push(maskText(env[`GIT_PUSH_OPTION_${i}`] ?? ''));
  const values = new Map<string, string>();
  for (const option of raw) {
    const eq = option.indexOf('=');
    values.set(eq < 0 ? option : option.slice(0, eq), eq < 0 ? '' : option.slice(eq + 1));
  }
  return { raw, values };
}
