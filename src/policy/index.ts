export type { ClassifiedUpdate, Decision, Finding, Pusher, PushOptions, RefUpdate, UpdateKind } from './types.js';
export { classifyUpdate, classifyUpdates, parseRefUpdates } from './classify.js';
export { checkRefUpdates, REF_RULE_IDS, RESERVED_NAMESPACE } from './refs.js';
export { ContentChecker, LIMIT_RULES } from './content.js';
export { decide, INCOMPLETE_RULE, pushOptionsFromEnv, type Outcome } from './decide.js';
export { ALLOWLIST_CHANGE_RULE, chooseAllowlistSource, DEFAULT_TRUSTED_REFS, EMPTY_ALLOWLIST, isAllowlistPath, isTrustedBranch, mergeAllowlists, parseRepoAllowlist, type AllowlistSource, type RepoAllowlist } from './allowlist.js';
