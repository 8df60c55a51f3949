import { formatPath } from './paths.js';
import { closest } from './suggest.js';
import type { ConfigProblem } from './errors.js';
import type { PushgateConfig } from './types.js';

/** Whether a rule-id pattern (`secret.*`, `limit.blob-size`) matches an id. */
export function ruleIdMatches(pattern: string, id: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`).test(id);
}

/**
 * Overrides in `policy.rules` that match no rule the policy engine knows: a
 * misspelt id would otherwise leave the rule it meant untouched. The config
 * module cannot know the ids itself; `pushgate config check` passes them in.
 */
export function checkRuleIds(config: PushgateConfig, knownIds: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const override of config.policy.rules) {
    if (knownIds.some((id) => ruleIdMatches(override.rule, id))) continue;
    const guess = closest(override.rule, knownIds);
    problems.push({
      path: formatPath(['policy', 'rules', override.rule]),
      message: `matches no rule${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`,
    });
  }
  return problems;
}
