/** The operator log: never stdout, which may carry the git protocol elsewhere. */
export interface OperatorLog {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  close?(): Promise<void>;
}

/** A log that keeps nothing, for tests and embedding. */
export const silentLog: OperatorLog = { error() {}, warn() {}, info() {}, debug() {} };
