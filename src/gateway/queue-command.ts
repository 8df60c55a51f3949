/**
 * Reviewer commands over SSH: `queue …` runs the pushgate CLI as a child,
 * with the caller's identity in the same PUSHGATE_* variables the hook
 * reads, and the server's config. The client's words are arguments, never
 * shell text, and cannot choose another config.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gitChildEnv } from './git-env.js';
import type { QueueCommandHandler } from './session.js';

const PUSHGATE_ENTRY = fileURLToPath(new URL('../../../bin/pushgate.js', import.meta.url));

export interface QueueCommandOptions {
  /** The config file the server runs with. */
  configPath: string;
  /** The pushgate entry point; by default this installation's. */
  entry?: string;
}

export function spawnQueueCommand(options: QueueCommandOptions): QueueCommandHandler {
  return (argv, identity, io, session) => {
    if (argv.some((arg) => arg === '--config' || arg.startsWith('--config='))) {
      io.stderr.write('pushgate: --config cannot be given over SSH; the server\'s configuration applies\n');
      return Promise.resolve(1);
    }
    const env = { ...gitChildEnv({ identity, session }), PUSHGATE_CONFIG: options.configPath };
    const child = spawn(process.execPath, [options.entry ?? PUSHGATE_ENTRY, 'queue', ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'], signal: io.signal });
    io.stdin.pipe(child.stdin);
    child.stdin.on('error', () => {});
    child.stdout.pipe(io.stdout, { end: false });
    child.stderr.pipe(io.stderr, { end: false });
    return new Promise((resolve) => {
      child.once('error', (error) => {
        if (error.name !== 'AbortError') io.stderr.write(`pushgate: the queue command could not be started: ${error.message}\n`);
      });
      child.once('close', (code) => {
        io.stdin.unpipe(child.stdin);
        resolve(code ?? 2);
      });
    });
  };
}
