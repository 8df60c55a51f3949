import { resolve } from 'node:path';
import { findConfigPath } from '../config/find.js';
import { runPreReceive } from './pre-receive.js';

/** Most pre-receive input is a few lines; a megabyte is far beyond any real push. */
const MAX_STDIN = 16 * 1024 * 1024;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_STDIN) throw new Error(`more than ${MAX_STDIN} bytes of ref updates on standard input`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

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

/**
 * `pushgate hook post-receive`: the push is applied. Records that in the
 * audit log and runs the repository's own post-receive, if kept.
 */
export async function postReceiveMain(configArgument: string | undefined): Promise<number> {
  const configPath = findConfigPath(configArgument);
  const stdin = await readStdin().catch(() => '');
  const gitDir = resolve(process.env.GIT_DIR ?? '.');
  const { recordAppliedPush } = await import('./post-receive.js');
  const recorded = recordAppliedPush({ stdin, env: process.env, configPath, gitDir });
  const { runChainedHook } = await import('./chain.js');
  const code = await runChainedHook(gitDir, 'post-receive', stdin, process.env);
  const problem = await recorded;
  // The push stands whatever happens here: this can only be reported.
  if (problem !== null) process.stderr.write(`pushgate: the applied push is not in the audit log: ${problem}\n`);
  return code;
}
