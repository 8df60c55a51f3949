import type { PushgateConfig } from '../config/index.js';
import { contextRules, rules as secretRules } from '../scan/index.js';
import { ALLOWLIST_CHANGE_RULE } from './allowlist.js';
import { LIMIT_RULES } from './content.js';
import { INCOMPLETE_RULE } from './decide.js';
import { REF_RULE_IDS } from './refs.js';
import { COMMIT_RULES } from './commit.js';
import { PATH_RULES } from './paths.js';
import { SIGNATURE_RULES } from './signature.js';
import { REPOSITORY_RULE_IDS } from './repository.js';
import { DEPS_RULE_IDS } from './deps/check.js';
import { commandRuleIds } from './commands.js';

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
    // Catalogue rules (policy.commit, policy.path; policy.refNames reports ref.name).
    ...[COMMIT_RULES, PATH_RULES, SIGNATURE_RULES].flatMap((rules) => Object.values(rules).map((r) => r.id)),
    ...DEPS_RULE_IDS,
    ...commandRuleIds(config.policy.commands),
  ];
}
