/**
 * Reviewer commands (`queue list|show|approve|…`) over sshd: this pushgate's
 * own `queue` command, run as a child with the caller's PUSHGATE_* identity
 * (which the queue command reads) and the server's config, never the client's.
 */
import type { PushgateConfig } from '../config/index.js';
import type { Refusal } from '../gateway/plan.js';

export interface Invocation {
  command: string;
  args: string[];
  cwd?: string;
}

export type QueueInvocation = Invocation | { refused: Pick<Refusal, 'code' | 'message' | 'reason'> };

const PUSHGATE_BIN = new URL('../../../bin/pushgate.js', import.meta.url).pathname;

export function queueInvocation(argv: readonly string[], config: PushgateConfig, bin = PUSHGATE_BIN): QueueInvocation | undefined {
  if (config.configPath === null) return undefined;
  if (argv.some((word) => word === '--config' || word.startsWith('--config='))) {
    const message = 'queue commands over SSH use the server\'s configuration; --config is not accepted';
    return { refused: { code: 'command.bad-argument', message, reason: message } };
  }
  return { command: process.execPath, args: [bin, 'queue', ...argv, '--config', config.configPath] };
}
