import { minimatch } from 'minimatch';
import type { RuleScope } from '../config/index.js';
import type { Pusher } from './types.js';

/** Whether a rule scoped by roles applies to this pusher: no roles = everyone, as in policy.protect. */
export function appliesToPusher(scope: Pick<RuleScope, 'roles'>, pusher: Pusher): boolean {
  return scope.roles.length === 0 || scope.roles.some((role) => pusher.roles.includes(role));
}

/** Whether a rule scoped by refs looks at an update of `ref` (full ref globs, as in policy.protect). */
export function appliesToRef(scope: Pick<RuleScope, 'refs'>, ref: string): boolean {
  return scope.refs.some((pattern) => minimatch(ref, pattern, { dot: true }));
}
