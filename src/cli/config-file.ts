import { ConfigError, findConfigPath, loadConfig, type PushgateConfig } from '../config/index.js';
import { CliError } from './exit.js';

/** Loads the config a command was pointed at; an unusable one ends the command with every problem listed. */
export function loadCliConfig(explicit: string | undefined): PushgateConfig {
  const path = findConfigPath(explicit);
  try {
    return loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`configuration ${path} is not usable:\n${error.format()}`);
    throw error;
  }
}

export { CONFIG_OPTION_HELP } from './config-option.js';
