import type { AuditSink } from '../audit/index.js';
import { DEFAULT_CONFIG_PATH } from '../config/find.js';
import type { PushgateConfig } from '../config/types.js';
import type { Finding, Pusher, RefUpdate } from '../policy/index.js';
import { queueAuditEvent, recordAudit } from './audit.js';
import { notifyDetached, notifyEvent } from './notify.js';
import { parkPush } from './park.js';
import { withoutServerPaths } from './paths.js';

export interface HookParkInput {
  gitDir: string;
  env: NodeJS.ProcessEnv;
  config: PushgateConfig;
  repository: string;
  updates: readonly RefUpdate[];
  pusher: Pusher;
  findings: readonly Finding[];
  commits: readonly string[];
  reason?: string;
  reviewRequested?: boolean;
  /** The config file the hook runs with, for the hint on the server. */
  configPath?: string;
  /** Defaults to the configured audit log, opened only when a push parks. */
  audit?: AuditSink;
}

export type HookParkResult =
  | { decision: 'park'; queueId: string; waitCommand: string }
  | { decision: 'deny'; error: string; finding: Finding };

export const PARK_FAILED_RULE = 'queue.unavailable';

/**
 * How the pusher waits, as a command that works verbatim where the pusher is.
 * Over SSH (the gateway or `pushgate shell` put PUSHGATE_PRINCIPAL in the
 * hook's environment) the pusher is on another machine, in a clone: `--remote
 * origin` asks the server the remote points at, through git's own SSH command
 * (origin is git's default name; the hook cannot see the pusher's name for it).
 * On the server itself, the CLI with this hook's config. An administrator may
 * name another command in PUSHGATE_QUEUE_COMMAND.
 */
export function waitCommand(id: string, env: NodeJS.ProcessEnv, configPath?: string): string {
  if (env.PUSHGATE_QUEUE_COMMAND) return `${env.PUSHGATE_QUEUE_COMMAND} wait ${id}`;
  if (env.PUSHGATE_PRINCIPAL) return `pushgate queue wait ${id} --remote origin`;
  const config = configPath === undefined || configPath === DEFAULT_CONFIG_PATH ? '' : ` --config ${shellWord(configPath)}`;
  return `pushgate queue wait ${id}${config}`;
}

function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The pre-receive hook's park: keep the push in the queue and say how to
 * wait for it. If it cannot be kept, the push is denied, never allowed.
 */
export async function parkForReview(input: HookParkInput): Promise<HookParkResult> {
  let record;
  try {
    record = await parkPush({
      gitDir: input.gitDir, env: input.env, repository: input.repository, updates: input.updates, pusher: input.pusher,
      findings: input.findings, commits: input.commits, expiry: input.config.queue.expiry,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.reviewRequested === undefined ? {} : { reviewRequested: input.reviewRequested }),
    });
  } catch (error) {
    // The pusher reads this: no server path in it.
    const message = withoutServerPaths((error as Error).message.split('\n')[0] ?? '');
    const why = `the push needs review but could not be queued (${message})`;
    return {
      decision: 'deny',
      error: why,
      finding: { ruleId: PARK_FAILED_RULE, title: why, action: 'deny', mode: 'enforce', fix: 'Nothing was kept. Push again later; if it persists an administrator should look at the server.' },
    };
  }
  const warn = (message: string): void => {
    process.stderr.write(`pushgate: warning: ${message}\n`);
  };
  const audit = input.audit ?? await openConfiguredAudit(input.config, warn);
  if (audit !== undefined) {
    await recordAudit(audit, queueAuditEvent('queue.park', record, { result: 'pending' }), warn);
    if (input.audit === undefined) await (audit as AuditSink & { close?: () => Promise<void> }).close?.().catch(() => undefined);
  }
  notifyDetached(input.config.queue.notify, notifyEvent('park', record), input.config.log.file);
  return { decision: 'park', queueId: record.id, waitCommand: waitCommand(record.id, input.env, input.configPath) };
}

/** Loaded here, not at the top: only a parked push pays for the audit module. */
async function openConfiguredAudit(config: PushgateConfig, warn: (message: string) => void): Promise<AuditSink | undefined> {
  try {
    const { openAudit } = await import('../audit/index.js');
    return openAudit(config.audit, { stderr: false });
  } catch (error) {
    warn(`the audit log could not be opened: ${(error as Error).message}`);
    return undefined;
  }
}
