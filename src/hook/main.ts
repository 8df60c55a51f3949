import { resolve } from 'node:path';
import { findConfigPath } from '../config/find.js';
import { runPreReceive } from './pre-receive.js';
import { readStdin } from './stdin.js';

/**
 * `pushgate hook pre-receive --config FILE`: what the shim in a repository's
 * hooks/ runs. Prints the decision for the pusher and exits 0 only to allow.
 */
export async function preReceiveMain(configArgument: string | undefined): Promise<number> {
  const configPath = findConfigPath(configArgument);
  let stdin: string;
  try {
    stdin = await readStdin();
  } catch (error) {
    process.stderr.write(`pushgate: push DENIED: ${(error as Error).message}\n`);
    return 1;
  }
  const gitDir = resolve(process.env.GIT_DIR ?? '.');
  const run = await runPreReceive({ stdin, env: process.env, configPath, gitDir });
  process.stderr.write(run.output);
  if (run.exitCode !== 0) return run.exitCode;
  const { runChainedHook } = await import('./chain.js');
  return runChainedHook(gitDir, 'pre-receive', stdin, process.env);
}
