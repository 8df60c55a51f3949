import { resolve } from 'node:path';
import { loadConfigCached } from '../config/cached.js';
import { findConfigPath } from '../config/find.js';
import type { PushgateConfig } from '../config/index.js';
import { parseRefUpdates } from '../policy/classify.js';
import type { RefUpdate } from '../policy/types.js';
import { recordApplied } from './audit-decision.js';
import { Lifetime, writeOperatorLog, type OperatorSink } from './lifetime.cjs';
import type { PreReceiveInput } from './pre-receive.js';
import { repositoryName } from './repository-name.js';
import { pusherFromEnv } from './pusher.js';
import { readStdin } from './stdin.js';

/** How long the recorder may run before its config says otherwise (audit.backgroundTimeout's default). */
export const DEFAULT_BACKGROUND_TIMEOUT_MS = 120_000;

/**
 * The final outcome of a push: the ref updates git applied (git runs
 * post-receive only for those), with the pusher as the gateway described
 * them and the queue entry when a review released the push. Resolves to what
 * went wrong, or null when the record is written. Takes what pre-receive
 * takes (a type only: pre-receive's modules are not loaded).
 */
export async function recordAppliedPush(input: PreReceiveInput, config?: PushgateConfig): Promise<string | null> {
  let updates: RefUpdate[];
  if (config === undefined) {
    try {
      config = await loadConfigCached(input.configPath);
    } catch {
      return 'the configuration does not load';
    }
  }
  try {
    updates = parseRefUpdates(input.stdin);
  } catch (error) {
    return (error as Error).message;
  }
  const pusher = pusherFromEnv(input.env, config);
  const written = await recordApplied(config, repositoryName(input.gitDir, config), pusher, updates, input.env.PUSHGATE_QUEUE_ID || undefined);
  return written ? null : 'the audit log could not be written';
}

/**
 * `pushgate hook post-receive`: the push is applied. Records that in the
 * audit log and runs the repository's own post-receive, if kept.
 *
 * It usually runs in the background (the shim does not make the pusher wait
 * for it), so nothing waits for it to end: a watchdog ends it, and what it
 * started, after audit.backgroundTimeout whatever it is waiting on, and
 * writes so to the operator log, as it does any failure to record the push.
 */
export async function postReceiveMain(configArgument: string | undefined): Promise<number> {
  const lifetime = new Lifetime({ name: 'pushgate hook post-receive', limitMs: DEFAULT_BACKGROUND_TIMEOUT_MS });
  const sink: OperatorSink = {};
  const configPath = findConfigPath(configArgument);
  lifetime.phase('reading the ref updates on standard input');
  const stdin = await readStdin().catch(() => '');
  const gitDir = resolve(process.env.GIT_DIR ?? '.');
  // No paths in what it says: in the foreground (a kept hook) its stderr reaches the pusher.
  lifetime.phase('reading the configuration');
  let config: PushgateConfig | undefined;
  try {
    config = await loadConfigCached(configPath);
    sink.logFile = config.log.file;
    lifetime.configure({ limitMs: config.audit.backgroundTimeout, logFile: config.log.file });
  } catch {
    config = undefined;
  }
  lifetime.phase('recording the applied push in the audit log and running the kept post-receive hook');
  const recorded = config === undefined
    ? Promise.resolve('the configuration does not load')
    : recordAppliedPush({ stdin, env: process.env, configPath, gitDir }, config);
  const { runChainedHook } = await import('./chain.js');
  const code = await runChainedHook(gitDir, 'post-receive', stdin, process.env);
  const problem = await recorded;
  lifetime.stop();
  // The push stands whatever happens here: this can only be reported, to the
  // operator (the pusher's connection may be gone, and a background hook has no stderr).
  if (problem !== null) writeOperatorLog(sink, 'error', `pushgate hook post-receive: the applied push is not in the audit log: ${problem}`, { process: 'post-receive', pid: process.pid });
  return code;
}
