/**
 * A config that cannot be used is a ConfigError listing every problem found,
 * each with its path in the file (`policy.protect[2].refs`) and, when known,
 * its line and column. Callers show `format()` and refuse to run.
 */
export type ConfigErrorCode =
  | 'config.not-found'
  | 'config.unreadable'
  | 'config.syntax'
  | 'config.invalid';

export interface ConfigProblem {
  /** Where in the file: `ssh.limits.idleTimeout`, `access[0].repos[1]`; empty for the whole file. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string | null;
  readonly problems: readonly ConfigProblem[];

  constructor(code: ConfigErrorCode, file: string | null, problems: readonly ConfigProblem[]) {
    super(summary(file, problems));
    this.name = 'ConfigError';
    this.code = code;
    this.file = file;
    this.problems = problems;
  }

  /** One problem per line: `<file>:<line>:<col>: <path>: <message>`. */
  format(): string {
    return this.problems.map((problem) => formatProblem(this.file, problem)).join('\n');
  }
}

export function isConfigError(value: unknown): value is ConfigError {
  return value instanceof ConfigError;
}

export function formatProblem(file: string | null, problem: ConfigProblem): string {
  const where = [file, problem.line, problem.line === undefined ? undefined : problem.column]
    .filter((part) => part !== undefined && part !== null)
    .join(':');
  const subject = problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
  return where === '' ? subject : `${where}: ${subject}`;
}

function summary(file: string | null, problems: readonly ConfigProblem[]): string {
  const name = file ?? 'config';
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const first = problems[0];
  const detail = first === undefined ? '' : `: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
  return `${name}: ${count}${detail}${problems.length > 1 ? ' (and more)' : ''}`;
}
