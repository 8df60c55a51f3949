import { resolve } from 'node:path';
import { isConfigError, type ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import type { PushgateConfig } from './types.js';

/**
 * The config of a long-running process (the gateway): loaded once at start,
 * where a bad file is fatal, then reloaded on demand (SIGHUP), where a bad
 * file keeps the previous config running.
 */
export class ConfigSource {
  readonly path: string;
  #current: PushgateConfig;

  /** Throws ConfigError when the file cannot be used. */
  constructor(path: string) {
    this.path = resolve(path);
    this.#current = loadConfig(this.path);
  }

  get current(): PushgateConfig {
    return this.#current;
  }

  /** Loads the file again; returns null on success, else the error, keeping the previous config. */
  reload(): ConfigError | null {
    try {
      this.#current = loadConfig(this.path);
      return null;
    } catch (error) {
      if (isConfigError(error)) return error;
      throw error;
    }
  }
}
