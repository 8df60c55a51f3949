import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { gitEnv } from './env.js';
import { describeCommand, GitError, lastLine } from './errors.js';

export interface GitSpawnOptions {
  /** The repository (bare repo or `.git` directory); sets GIT_DIR and, unless `cwd` is given, the working directory. */
  gitDir?: string;
  cwd?: string;
  /** Base environment (default `process.env`), e.g. the hook's environment or `withoutQuarantine(hookEnv)`. */
  env?: NodeJS.ProcessEnv;
}

export interface GitRunOptions extends GitSpawnOptions {
  input?: string | Buffer;
  /** Most bytes accepted on stdout (and separately on stderr); default 64 MiB. */
  maxBuffer?: number;
  timeoutMs?: number;
  encoding?: 'utf8' | 'buffer';
}

export interface GitResult<T extends string | Buffer = string> {
  stdout: T;
  stderr: string;
  /** Exit status; a process killed by a signal reports 128 + the signal number, as shells do. */
  code: number;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
const STDERR_KEEP = 256 * 1024;

export interface GitProcess {
  child: ChildProcess;
  args: readonly string[];
  /** Settles when the process has exited and its stderr is drained; rejects only if git could not be started. */
  exited: Promise<{ code: number; stderr: string }>;
}

export interface GitStartOptions extends GitSpawnOptions {
  /** stdin is a pipe (otherwise ignored). */
  stdin?: boolean;
  /** A file descriptor for stdout instead of a pipe. */
  stdout?: number;
  /** Run under `stdbuf` with this program path, so git writes large blocks (see stdbufPath). */
  stdbuf?: string | null;
}

/** Starts git with an argument array (never a shell). stdout is a pipe unless given a descriptor; stdin is a pipe when `stdin` is true. */
export function spawnGit(args: readonly string[], options: GitStartOptions): GitProcess {
  const gitDir = options.gitDir === undefined ? undefined : resolve(options.gitDir);
  const stdbuf = options.stdbuf ?? null;
  const child = spawn(stdbuf ?? 'git', stdbuf === null ? args : ['-o', '256K', 'git', ...args], {
    cwd: options.cwd ?? gitDir,
    env: gitEnv(options.env, gitDir),
    stdio: [options.stdin === true ? 'pipe' : 'ignore', options.stdout ?? 'pipe', 'pipe'],
    shell: false,
    windowsHide: true,
  });
  // A git that exits early makes our writes fail with EPIPE; its exit status tells the story.
  child.stdin?.on('error', () => {});
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr += text;
    if (stderr.length > STDERR_KEEP * 2) stderr = stderr.slice(-STDERR_KEEP);
  });
  const exited = new Promise<{ code: number; stderr: string }>((resolvePromise, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new GitError('git.spawn', `could not start ${describeCommand(args)}: ${error.message}; is git installed and the directory present?`, { args }));
    });
    child.once('close', (code, signal) => {
      resolvePromise({ code: code ?? 128 + (signal === null ? 0 : constants.signals[signal] ?? 0), stderr });
    });
  });
  // Callers await `exited` later; until then a failed start must not count as unhandled.
  exited.catch(() => undefined);
  return { child, args, exited };
}

/** The error for a git command that exited non-zero. */
export function failure(args: readonly string[], code: number, stderr: string): GitError {
  const reason = lastLine(stderr) || `exit status ${code}`;
  return new GitError('git.failed', `${describeCommand(args)} failed: ${reason}`, { args, exitCode: code, stderr });
}

/** Runs git to completion and collects its output; a non-zero exit is a result, not an error. */
export function runGit(args: readonly string[], options: GitRunOptions & { encoding: 'buffer' }): Promise<GitResult<Buffer>>;
export function runGit(args: readonly string[], options?: GitRunOptions & { encoding?: 'utf8' }): Promise<GitResult<string>>;
export function runGit(args: readonly string[], options: GitRunOptions = {}): Promise<GitResult<string | Buffer>> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawnGit(args, { ...options, stdin: options.input !== undefined });
    const { child } = proc;
    const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      settle();
    };
    // Rejects at once: a grandchild holding the pipes open must not delay the caller.
    const abort = (error: GitError): void => {
      finish(() => reject(error));
      child.kill('SIGKILL');
      child.stdout!.destroy();
      child.stderr!.destroy();
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBuffer) {
        abort(new GitError('git.output-too-large', `${describeCommand(args)} wrote more than ${maxBuffer} bytes; raise maxBuffer or stream the output`, { args }));
        return;
      }
      chunks.push(chunk);
    });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => abort(new GitError('git.timeout', `${describeCommand(args)} did not finish within ${options.timeoutMs} ms`, { args })), options.timeoutMs);
    }
    if (options.input !== undefined) child.stdin!.end(options.input);
    proc.exited.then(
      ({ code, stderr }) =>
        finish(() => {
          const stdout = Buffer.concat(chunks, size);
          resolvePromise({ stdout: options.encoding === 'buffer' ? stdout : stdout.toString('utf8'), stderr, code });
        }),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Like runGit, but a non-zero exit throws a GitError carrying the exit status, the arguments and stderr. */
export function runGitOrThrow(args: readonly string[], options: GitRunOptions & { encoding: 'buffer' }): Promise<GitResult<Buffer>>;
export function runGitOrThrow(args: readonly string[], options?: GitRunOptions & { encoding?: 'utf8' }): Promise<GitResult<string>>;
export async function runGitOrThrow(args: readonly string[], options: GitRunOptions = {}): Promise<GitResult<string | Buffer>> {
  const result = await runGit(args, options as GitRunOptions & { encoding?: 'utf8' });
  if (result.code !== 0) throw failure(args, result.code, result.stderr);
  return result;
}
