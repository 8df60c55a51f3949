import winston from 'winston';
import type { LogConfig } from '../config/index.js';
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
