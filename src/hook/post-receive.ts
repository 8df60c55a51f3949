import { resolve } from 'node:path';
import { loadConfigCached } from '../config/cached.js';
import { findConfigPath } from '../config/find.js';
import type { PushgateConfig } from '../config/index.js';
import { parseRefUpdates } from '../policy/classify.js';
import type { RefUpdate } from '../policy/types.js';
import { recordApplied } from './audit-decision.js';
import type { PreReceiveInput } from './pre-receive.js';
import { repositoryName } from './repository-name.js';
import { pusherFromEnv } from './pusher.js';
import { readStdin } from './stdin.js';

/**
 * The final outcome of a push: the ref updates git applied (git runs
 * post-receive only for those), with the pusher as the gateway described
 * them and the queue entry when a review released the push. Resolves to what
 * went wrong, or null when the record is written. Takes what pre-receive
 * takes (a type only: pre-receive's modules are not loaded).
 */
export async function recordAppliedPush(input: PreReceiveInput): Promise<string | null> {
  let config: PushgateConfig;
  let updates: RefUpdate[];
  try {
    config = await loadConfigCached(input.configPath);
  } catch {
    return `the configuration ${input.configPath} does not load`;
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
 */
export async function postReceiveMain(configArgument: string | undefined): Promise<number> {
  const configPath = findConfigPath(configArgument);
  const stdin = await readStdin().catch(() => '');
  const gitDir = resolve(process.env.GIT_DIR ?? '.');
  const recorded = recordAppliedPush({ stdin, env: process.env, configPath, gitDir });
  const { runChainedHook } = await import('./chain.js');
  const code = await runChainedHook(gitDir, 'post-receive', stdin, process.env);
  const problem = await recorded;
  // The push stands whatever happens here: this can only be reported.
  if (problem !== null) process.stderr.write(`pushgate: the applied push is not in the audit log: ${problem}\n`);
  return code;
}
