import winston from 'winston';
import type { LogConfig } from '../config/index.js';

/** The operator log: never stdout, which may carry the git protocol elsewhere. */
export interface OperatorLog {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  close?(): Promise<void>;
}

const LEVELS = ['error', 'warn', 'info', 'debug'];

export function createOperatorLog(config: LogConfig): OperatorLog {
  const transport = config.file === null
    ? new winston.transports.Console({ stderrLevels: LEVELS })
    : new winston.transports.File({ filename: config.file });
  const logger = winston.createLogger({
    level: config.level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  const at = (level: string) => (message: string, meta: Record<string, unknown> = {}): void => {
    logger.log(level, message, meta);
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    close: () => new Promise<void>((resolve) => {
      logger.on('finish', () => resolve());
      logger.end();
    }),
  };
}

/** A log that keeps nothing, for tests and embedding. */
export const silentLog: OperatorLog = { error() {}, warn() {}, info() {}, debug() {} };
