import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/** The text of a config file, or a ConfigError saying why there is none. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError('config.not-found', file, [
        { path: '', message: 'no such file: create one with `pushgate init --dir DIR`, or name another with --config or $PUSHGATE_CONFIG' },
      ]);
    }
    throw new ConfigError('config.unreadable', file, [{ path: '', message: `cannot read: ${(error as Error).message}` }]);
  }
}
