import { spawn, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';

export interface ChildResult {
  /** The exit code a shell would report: the child's, or 128 + the signal number. */
  code: number;
  /** What `ssh.session-end` records: the code, or `signal SIGxxx`. */
  result: string;
  /** Set when the program could not be started. */
  error?: Error;
}

const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];

/**
 * Runs a program with an argument array (never a shell) and waits for it.
 * Node cannot exec, so with `forwardSignals` the signals sshd sends to this
 * process are passed on to the child, which then decides how to end.
 */
export function runChild(command: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv; stdio: StdioOptions; forwardSignals?: boolean }): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: options.stdio });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    if (options.forwardSignals === true) for (const signal of FORWARDED) process.on(signal, forward);
    let settled = false;
    const done = (result: ChildResult): void => {
      if (settled) return;
      settled = true;
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(result);
    };
    child.once('error', (error) => done({ code: 2, result: 'error', error }));
    child.once('close', (code, signal) => {
      if (code !== null) done({ code, result: String(code) });
      else done({ code: 128 + (constants.signals[signal ?? 'SIGKILL'] ?? 9), result: `signal ${signal ?? 'unknown'}` });
    });
  });
}
