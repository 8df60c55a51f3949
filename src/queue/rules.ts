import { minimatch } from 'minimatch';
import type { QueueConfig } from '../config/types.js';
import type { Pusher } from '../policy/index.js';
import { QueueError } from './errors.js';
import type { QueueRecord } from './record.js';

export interface Requirements {
  /** Distinct reviewers needed. */
  approvals: number;
  /** For each ref of the push, the roles allowed to review it; a reviewer needs one of each. */
  reviewerRoles: string[][];
}

/**
 * What releasing this entry takes under the current config. Each ref of the
 * push finds its first matching rule (or the queue defaults); the strictest
 * wins: the most approvals, and a reviewer must be allowed for every ref,
 * so a multi-ref push cannot slip a guarded ref past its rule.
 */
export function requirementsFor(record: Pick<QueueRecord, 'repository' | 'updates'>, queue: QueueConfig): Requirements {
  let approvals = queue.approvals;
  const reviewerRoles: string[][] = [];
  const refs = record.updates.length > 0 ? record.updates.map((u) => u.ref) : [''];
  for (const ref of refs) {
    const rule = queue.rules.find((r) => r.repos.some((p) => minimatch(record.repository, p, { dot: true })) && r.refs.some((p) => minimatch(ref, p, { dot: true })));
    approvals = Math.max(approvals, rule?.approvals ?? queue.approvals);
    reviewerRoles.push(rule?.reviewerRoles ?? queue.reviewerRoles);
  }
  return { approvals: Math.max(1, approvals), reviewerRoles: dedupe(reviewerRoles) };
}

function dedupe(lists: string[][]): string[][] {
  const seen = new Set<string>();
  return lists.filter((list) => {
    const key = JSON.stringify([...list].sort());
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The people behind an identity: itself and the human who sponsored it, if its certificate names one. */
function people(who: Pick<Pusher, 'principal' | 'sponsor'>): string[] {
  return who.sponsor ? [who.principal, who.sponsor] : [who.principal];
}

/** Whether two identities are, or act for, the same person. */
export function samePerson(a: Pick<Pusher, 'principal' | 'sponsor'>, b: Pick<Pusher, 'principal' | 'sponsor'>): boolean {
  const mine = people(a);
  return people(b).some((p) => mine.includes(p));
}

/** Throws unless `reviewer` holds a reviewing role for every ref of the entry. */
export function checkReviewer(reviewer: Pusher, requirements: Requirements, action: 'approve' | 'reject'): void {
  const missing = requirements.reviewerRoles.find((roles) => !roles.some((r) => reviewer.roles.includes(r)));
  if (missing !== undefined) {
    throw new QueueError('queue.not-reviewer', `${reviewer.principal} may not ${action} this push: it takes one of the roles ${missing.join(', ') || '(none configured)'}, and ${reviewer.principal} has ${reviewer.roles.join(', ') || 'no roles'}`);
  }
}

/**
 * Four eyes: nobody approves their own push, neither directly nor through
 * an agent they sponsor, nor as the sponsor of the agent that pushed; and
 * each approval comes from a different person.
 */
export function checkApprover(reviewer: Pusher, record: QueueRecord): void {
  if (samePerson(reviewer, record.pusher)) {
    const how = reviewer.principal === record.pusher.principal ? 'pushed it' : 'is the pusher or its sponsor';
    throw new QueueError('queue.four-eyes', `${reviewer.principal} may not approve queue entry ${record.id}: ${reviewer.principal} ${how} (${record.pusher.principal}${record.pusher.sponsor ? `, sponsored by ${record.pusher.sponsor}` : ''}); another reviewer must approve`);
  }
  const earlier = record.approvals.find((a) => samePerson(a.by, reviewer));
  if (earlier !== undefined) {
    throw new QueueError('queue.already-approved', `${reviewer.principal} already approved queue entry ${record.id} (as ${earlier.by.principal} at ${earlier.at}); another reviewer must approve`);
  }
}
