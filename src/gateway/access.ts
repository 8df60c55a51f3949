import { minimatch } from 'minimatch';
import type { AccessRule, Permission } from '../config/index.js';
import { principalMatches } from '../identity/principals.js';

export interface Caller {
  principal: string;
  roles: readonly string[];
}

function ruleApplies(rule: AccessRule, caller: Caller, repo: string): boolean {
  const who = rule.principals.some((p) => principalMatches(caller.principal, p)) || rule.roles.some((role) => caller.roles.includes(role));
  return who && rule.repos.some((pattern) => minimatch(repo, pattern, { dot: true }));
}

/** Everything `caller` may do on `repo` (a name relative to reposRoot, without `.git`): the union of the matching rules. */
export function permissionsFor(caller: Caller, repo: string, rules: readonly AccessRule[]): Set<Permission> {
  const granted = new Set<Permission>();
  for (const rule of rules) {
    if (ruleApplies(rule, caller, repo)) for (const permission of rule.permissions) granted.add(permission);
  }
  return granted;
}

export function isAllowed(caller: Caller, repo: string, need: Permission, rules: readonly AccessRule[]): boolean {
  return permissionsFor(caller, repo, rules).has(need);
}
