/**
 * planCommand, plus upstream mode: a repository that matches an upstream is
 * a mirror, created on first use and refreshed before git starts. Shared by
 * the gateway's sessions and `pushgate shell`. A config without upstreams
 * costs nothing here.
 */
import type { AuditEventInput } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { planCommand, type GitPlan, type PlanOptions, type QueuePlan, type Refusal } from './plan.js';

export interface PlannedSession {
  plan: GitPlan | QueuePlan | Refusal;
  /** A line for the client's stderr (the mirror is served stale). */
  warning?: string;
  /** For a push to a mirror: call once git has exited (mirror refreshes wait until then). */
  release?: () => void;
}

export interface UpstreamPlanOptions extends PlanOptions {
  config: Pick<PushgateConfig, 'upstreams' | 'reposRoot' | 'configPath'>;
  record(event: AuditEventInput): void;
  auditFields?: Pick<AuditEventInput, 'session' | 'identity'>;
}

export async function planSession(commandLine: string, identity: Identity, options: UpstreamPlanOptions): Promise<PlannedSession> {
  let plan = await planCommand(commandLine, identity, options);
  if (options.config.upstreams.length === 0) return { plan };
  const missing = plan.kind === 'refused' && plan.code === 'repo.not-found' && plan.repository !== undefined;
  if (plan.kind !== 'git' && !missing) return { plan };
  const { prepareSession } = await import('../upstream/index.js');
  const repository = plan.kind === 'git' ? plan.repository : (plan as Refusal).repository!;
  const write = plan.kind === 'git' ? plan.permission === 'write' : /receive-pack/.test(options.forceCommand ?? commandLine);
  const prepared = await prepareSession({
    config: options.config, repository, gitDir: plan.kind === 'git' ? plan.path : undefined, write, record: options.record,
    ...(options.auditFields !== undefined ? { auditFields: options.auditFields } : {}),
  });
  if (prepared.kind === 'none') return { plan };
  if (prepared.kind === 'refused') {
    return { plan: { kind: 'refused', code: prepared.code, message: prepared.message, reason: prepared.reason, repository } };
  }
  // A mirror made just now: plan again, so it is resolved and checked like any repository.
  if (prepared.created) {
    try {
      plan = await planCommand(commandLine, identity, options);
    } catch (error) {
      prepared.release?.();
      throw error;
    }
  }
  if (plan.kind !== 'git') prepared.release?.();
  return {
    plan,
    ...(prepared.warning !== undefined ? { warning: prepared.warning } : {}),
    ...(prepared.release !== undefined && plan.kind === 'git' ? { release: prepared.release } : {}),
  };
}
