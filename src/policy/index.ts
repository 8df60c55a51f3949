export type { ClassifiedUpdate, Decision, Finding, Pusher, PushOptions, RefUpdate, UpdateKind } from './types.js';
export { classifyUpdate, classifyUpdates, parseRefUpdates } from './classify.js';
export { checkRefUpdates, REF_RULE_IDS, RESERVED_NAMESPACE } from './refs.js';
export { ContentChecker, LIMIT_RULES } from './content.js';
export { decide, INCOMPLETE_RULE, pushOptionsFromEnv, type Outcome } from './decide.js';
export { EMPTY_ALLOWLIST, mergeAllowlists, parseRepoAllowlist, type RepoAllowlist } from './allowlist.js';
