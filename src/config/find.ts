import { resolve } from 'node:path';

export const DEFAULT_CONFIG_PATH = '/etc/pushgate/pushgate.yaml';

/** `--config`, then `$PUSHGATE_CONFIG`, then /etc/pushgate/pushgate.yaml; the first one given wins even if it does not exist. */
export function findConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const fromEnv = env.PUSHGATE_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return DEFAULT_CONFIG_PATH;
}
