import type { PushgateConfig } from '../config/index.js';
import { contextRules, rules as secretRules } from '../scan/index.js';
import { ALLOWLIST_CHANGE_RULE } from './allowlist.js';
import { LIMIT_RULES } from './content.js';
import { INCOMPLETE_RULE } from './decide.js';
import { REF_RULE_IDS } from './refs.js';
import { REPOSITORY_RULE_IDS } from './repository.js';

/** Every rule id the policy can report with this config: what `policy.rules` overrides may name. */
export function knownRuleIds(config: PushgateConfig): string[] {
  return [
    ...REF_RULE_IDS,
    ...REPOSITORY_RULE_IDS,
    ...Object.values(LIMIT_RULES).map((r) => r.id),
    ...config.policy.paths.map((group) => `path.${group.name}`),
    ...secretRules.map((r) => r.id),
    ...contextRules.map((r) => r.id),
    'secret.file-name',
    INCOMPLETE_RULE.id,
    ALLOWLIST_CHANGE_RULE.id,
  ];
}
