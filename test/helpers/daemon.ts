/**
 * A server process a test starts (sshd, nginx, fcgiwrap): in its own process
 * group so that stopping it also stops what it forked, ready when a probe
 * says so, and restartable on the same address (a test stops an upstream
 * and starts it again).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface DaemonOptions {
  /** For messages: "sshd (gitolite upstream)". */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Polled until true; sees what the process printed since this start. */
  ready(output: string): boolean | Promise<boolean>;
  startTimeoutMs?: number;
}

export class Daemon {
  #child: ChildProcess | undefined;
  #output = '';

  constructor(readonly options: DaemonOptions) {}

  /** Everything it printed, stdout and stderr, since it was first started. */
  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const { name, command, args, env, cwd, ready, startTimeoutMs = 60_000 } = this.options;
    const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.#child = child;
    const from = this.#output.length;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', (error) => (this.#output += `\n[${name}: ${String(error)}]`));
    for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', (text: string) => (this.#output += text));
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) break;
      if (await ready(this.#output.slice(from))) return;
      await Promise.race([sleep(25), exited]);
    }
    await this.stop();
    throw new Error(`${name} did not start (${command} ${args.join(' ')}):\n${this.#output}`);
  }

  /** SIGTERM to the whole group, SIGKILL after 5 s; resolves when the leader has exited. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // the group is gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
