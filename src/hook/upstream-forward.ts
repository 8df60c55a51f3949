/**
 * Upstream mode, on allow: the push goes to the upstream before git applies
 * it here. Loaded only for a repository that has an upstream.
 */
import type { PushgateConfig } from '../config/index.js';
import type { Finding, Pusher, RefUpdate } from '../policy/index.js';
import { forwardAuditEvent, forwardUpdates, isUpstreamError, markStale, upstreamFor, type UpstreamTarget } from '../upstream/index.js';
import { isMirror } from '../upstream/marker.js';
import { auditIdentity, recordFromHook } from './audit-decision.js';

export interface ForwardRefusal {
  finding: Finding;
  /** What the upstream's checks printed, one line each (already masked and escaped). */
  said: string[];
}

function unavailable(title: string): ForwardRefusal {
  return {
    finding: { ruleId: 'upstream.unavailable', title, action: 'deny', mode: 'enforce', fix: 'Nothing was applied, here or upstream. Push again later; if it persists, an administrator can run `pushgate upstream check`.' },
    said: [],
  };
}

/**
 * Forwards the push's ref updates to the repository's upstream. Resolves to
 * undefined when the upstream accepted every one (git may apply the push
 * here), else to the finding that denies it. Never throws: a failure to
 * forward denies.
 */
export async function forwardFromHook(input: { gitDir: string; env: NodeJS.ProcessEnv; config: PushgateConfig; repository: string; updates: readonly RefUpdate[]; pusher: Pusher }): Promise<ForwardRefusal | undefined> {
  let target: UpstreamTarget | undefined;
  try {
    target = upstreamFor(input.config, input.repository);
  } catch (error) {
    return unavailable(isUpstreamError(error) ? error.message : 'the upstream of this repository cannot be determined');
  }
  if (target === undefined) {
    // A mirror whose upstream the configuration no longer names: applying here would move the mirror alone.
    if (!isMirror(input.gitDir)) return undefined;
    return unavailable(`${input.repository} mirrors an upstream that this configuration does not name`);
  }
  const updates = input.updates.map((u) => ({ ref: u.ref, oldOid: u.oldOid, newOid: u.newOid }));
  const result = await forwardUpdates(target, updates, { gitDir: input.gitDir, env: input.env });
  await recordFromHook(input.config, forwardAuditEvent(target, updates, result, { ...(input.pusher.sessionId ? { session: input.pusher.sessionId } : {}), identity: auditIdentity(input.pusher) }));
  if (result.outcome === 'accepted') return undefined;
  if (result.outcome === 'unavailable') return unavailable(result.message);
  // The upstream has something the mirror does not: the next session fetches it first.
  if (result.outcome === 'stale') await markStale(input.gitDir).catch(() => undefined);
  const fix = result.outcome === 'stale'
    ? `${result.staleRef ?? 'A ref'} moved upstream since this server last fetched it. Fetch, rebase onto it, and push again.`
    : 'Nothing was applied, here or upstream. Read the upstream\'s message above; fix what it names and push again.';
  return { finding: { ruleId: 'upstream.rejected', title: result.message, action: 'deny', mode: 'enforce', fix, ...(result.staleRef !== undefined ? { ref: result.staleRef } : {}) }, said: result.said };
}
