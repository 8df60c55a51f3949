export { SecretScanner, lineMayHoldSecret } from './scanner.js';
export { contextRules, rules } from './rules.js';
export { fileRules } from './filenames.js';
export type { FileRule } from './filenames.js';
export { maskSecret, maskLine, MAX_REVEALED_FRACTION } from './mask.js';
export type { Allowlist, Confidence, MatchContext, ScanOptions, SecretFinding, SecretRule, Verdict } from './types.js';
export { PrintableRuns, printableRuns, MIN_RUN, MAX_RUN, RUN_OVERLAP, type RunHandler } from './strings.js';
