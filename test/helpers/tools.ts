import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Fails loudly when an external tool the test drives is missing, naming the
 * package to install, so a missing dependency can never turn into a silent pass.
 */
export function requireTool(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`this test needs \`${command}\`: install it with \`apt-get install -y ${debianPackage}\``);
  }
  return path;
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'pushgate-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * For a spawnSync that waits on a server or a push: it blocks the test's event
 * loop, so it is bounded well below the test file's time limit (a file killed
 * for its limit while blocked reports nothing about where it stood).
 */
export const BLOCKING_LIMIT = { timeout: 120_000, killSignal: 'SIGKILL' } as const;

/**
 * Runs a command and returns stdout; throws with stderr on failure. Bounded
 * like BLOCKING_LIMIT: a command still running after `timeoutMs` is killed and
 * the call throws.
 */
export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {}): string {
  const { timeoutMs = BLOCKING_LIMIT.timeout, ...rest } = options;
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', ...rest });
}

/** The compiled CLI entry point. */
export const pushgateBin = new URL('../../../bin/pushgate.js', import.meta.url).pathname;

/** A loopback TCP port that was free a moment ago, for servers that must be told their port up front. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a command printed, and how it ended (-1 when it did not exit on its own). */
export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

export function ran(result: SpawnSyncReturns<string>): Ran {
  return { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/** Kills a child started with `detached` and everything it started (git's ssh, say), which may hold its pipes open. */
export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A child process running in the background, with what it printed so far. */
export interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles when it has ended; after `timeoutMs` it is killed with everything it started, and stderr says so. */
  done: Promise<Ran>;
}

export function startAsync(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Started {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const timer = setTimeout(() => {
    stderr += `\n[${command} ${args.join(' ')}: no end after ${timeoutMs / 1000} s; stopped]`;
    killGroup(child);
  }, timeoutMs);
  const done = new Promise<Ran>((resolve) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: -1, stdout, stderr: `${stderr}${String(error)}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** A child process run to its end without blocking the event loop (see startAsync). */
export function runAsync(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<Ran> {
  return startAsync(command, args, options).done;
}
