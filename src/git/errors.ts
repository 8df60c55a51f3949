/**
 * Every failure of the git library is a GitError with a stable code.
 * `exitCode`, `args` and `stderr` say which git command failed and how.
 */
export type GitErrorCode =
  | 'git.failed'
  | 'git.spawn'
  | 'git.timeout'
  | 'git.output-too-large'
  | 'git.closed'
  | 'git.protocol'
  | 'git.invalid-argument'
  | 'git.spool';

export class GitError extends Error {
  readonly code: GitErrorCode;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(code: GitErrorCode, message: string, details: { args?: readonly string[]; exitCode?: number | null; stderr?: string } = {}) {
    super(message);
    this.name = 'GitError';
    this.code = code;
    this.args = details.args ?? [];
    this.exitCode = details.exitCode ?? null;
    this.stderr = details.stderr ?? '';
  }
}

export function isGitError(value: unknown): value is GitError {
  return value instanceof GitError;
}

/** "git rev-list --stdin" → for messages; never used to run anything. */
export function describeCommand(args: readonly string[]): string {
  return ['git', ...args].join(' ');
}

/** The last non-empty stderr line, which is where git puts its "fatal: …". */
export function lastLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return lines[lines.length - 1]?.trim() ?? '';
}
