import { loadConfigCached } from '../config/cached.js';
import type { PushgateConfig } from '../config/index.js';
import { parseRefUpdates } from '../policy/classify.js';
import type { RefUpdate } from '../policy/types.js';
import { recordApplied } from './audit-decision.js';
import { repositoryName } from './pre-receive.js';
import { pusherFromEnv } from './pusher.js';

export interface PostReceiveInput {
  stdin: string;
  env: NodeJS.ProcessEnv;
  configPath: string;
  gitDir: string;
}

/**
 * The final outcome of a push: the ref updates git applied (git runs
 * post-receive only for those), with the pusher as the gateway described
 * them and the queue entry when a review released the push. Resolves to what
 * went wrong, or null when the record is written.
 */
export async function recordAppliedPush(input: PostReceiveInput): Promise<string | null> {
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
