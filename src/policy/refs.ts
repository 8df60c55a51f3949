import { minimatch } from 'minimatch';
import type { PolicyConfig, RefAction } from '../config/index.js';
import type { ClassifiedUpdate, Finding, Pusher } from './types.js';

export const RESERVED_NAMESPACE = 'refs/pushgate/';

interface RefRule {
  readonly id: string;
  readonly title: string;
  readonly fix: string;
}

const RULES: Record<'reserved' | RefAction | 'tag-move', RefRule> = {
  reserved: { id: 'ref.reserved-namespace', title: 'refs/pushgate/ is reserved for the review queue', fix: 'Push to a branch or tag; pending pushes are created by the server only.' },
  delete: { id: 'ref.delete', title: 'deleting a protected ref', fix: 'Do not delete this ref; ask an administrator if it really must go.' },
  'force-push': { id: 'ref.force-push', title: 'non-fast-forward update (force push) of a protected ref', fix: 'Fetch, rebase or merge onto the current tip, and push again without --force.' },
  'tag-move': { id: 'ref.tag-move', title: 'moving an existing protected tag', fix: 'Tags are immutable here: create a new tag instead of moving this one.' },
  update: { id: 'ref.update', title: 'update of a protected ref', fix: 'Changes to this ref are reviewed: wait for a reviewer, or push to another branch and open a review.' },
  create: { id: 'ref.create', title: 'creating a protected ref', fix: 'Creating refs matching this pattern is restricted; use another name.' },
};

export const REF_RULE_IDS = Object.values(RULES).map((r) => r.id);

/** The protect-rule actions an update performs; a moved tag counts as a force push. */
function actionsOf(update: ClassifiedUpdate): RefAction[] {
  switch (update.kind) {
    case 'create': return ['create'];
    case 'delete': return ['delete'];
    case 'fast-forward': return update.isTag ? ['force-push', 'update'] : ['update'];
    case 'non-fast-forward': return ['force-push', 'update'];
  }
}

function ruleFor(update: ClassifiedUpdate, action: RefAction): RefRule {
  return action === 'force-push' && update.isTag ? RULES['tag-move'] : RULES[action];
}

export function checkRefUpdates(updates: readonly ClassifiedUpdate[], pusher: Pusher, policy: PolicyConfig): Finding[] {
  const findings: Finding[] = [];
  for (const update of updates) {
    const base = { ref: update.ref, mode: 'enforce' as const, ...(update.kind !== 'delete' ? { commit: update.newOid } : {}) };
    if (update.ref.startsWith(RESERVED_NAMESPACE)) {
      findings.push({ ...base, ruleId: RULES.reserved.id, title: RULES.reserved.title, fix: RULES.reserved.fix, action: 'deny' });
      continue;
    }
    const applicable = policy.protect.filter((rule) =>
      rule.refs.some((pattern) => minimatch(update.ref, pattern, { dot: true })) &&
      (rule.roles.length === 0 || rule.roles.some((r) => pusher.roles.includes(r))));
    let strongest: Finding | undefined;
    for (const action of actionsOf(update)) {
      for (const rule of applicable) {
        const verdict = rule.deny.includes(action) ? 'deny' : rule.park.includes(action) ? 'park' : undefined;
        if (verdict === undefined || (strongest !== undefined && (strongest.action === 'deny' || verdict === 'park'))) continue;
        const r = ruleFor(update, action);
        strongest = { ...base, ruleId: r.id, title: r.title, fix: r.fix, action: verdict };
      }
    }
    if (strongest) findings.push(strongest);
  }
  return findings;
}
