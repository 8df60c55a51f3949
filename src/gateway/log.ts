import winston from 'winston';
import type { LogConfig } from '../config/index.js';
import { escapeControl } from '../text/index.js';
import type { OperatorLog } from './operator-log.js';

export { silentLog, type OperatorLog } from './operator-log.js';

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
    logger.log(level, escapeControl(message), escapedMeta(meta) as Record<string, unknown>);
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

/**
 * Log fields carry text from clients and certificates (key ids, principals,
 * commands, repository names, error messages that quote them): every string
 * is escaped so that no control character, bidi override or line separator
 * reaches the reader of the log, whatever the JSON encoder lets through.
 */
export function escapedMeta(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return escapeControl(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => escapedMeta(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [escapeControl(key), escapedMeta(item, depth + 1)]));
}
