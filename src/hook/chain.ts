import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { HookName } from './install.js';

/** A foreign hook kept and run by pushgate after its own checks. */
export const CHAINED_SUFFIX = '.chained';

/**
 * Runs a repository's own hook that pushgate's installation kept aside, with
 * the same input and environment git gave pushgate. Its output reaches the
 * pusher; its exit status is the result. No chained hook: 0.
 */
export function runChainedHook(gitDir: string, hook: HookName, stdin: string, env: NodeJS.ProcessEnv): Promise<number> {
  const path = join(gitDir, 'hooks', hook + CHAINED_SUFFIX);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return Promise.resolve(0);
  }
  return new Promise((resolve) => {
    const child = spawn(path, [], { cwd: gitDir, env, stdio: ['pipe', 'inherit', 'inherit'] });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    child.once('error', () => resolve(1));
    child.once('close', (code) => resolve(code ?? 1));
  });
}
