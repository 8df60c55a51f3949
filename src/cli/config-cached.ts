import { loadConfigCached } from '../config/cached.js';
import { isConfigError } from '../config/errors.js';
import { findConfigPath } from '../config/find.js';
import type { PushgateConfig } from '../config/types.js';
import { CliError } from './exit.js';

/**
 * loadCliConfig for the commands sshd runs on every connection (`shell`,
 * `shell principals`): the validated config comes from the cache the hooks
 * use, so the YAML parser and the schema library load only when the file
 * changed (see config/cached.ts).
 */
export async function loadCliConfigCached(explicit: string | undefined): Promise<PushgateConfig> {
  const path = findConfigPath(explicit);
  try {
    return await loadConfigCached(path);
  } catch (error) {
    if (isConfigError(error)) throw new CliError(`configuration ${path} is not usable:\n${error.format()}`);
    throw error;
  }
}
