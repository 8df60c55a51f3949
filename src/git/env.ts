/**
 * Environment handling. Inside a pre-receive hook git points the object
 * directory at a quarantine; readers need that environment, while anything
 * that writes into the real repository (index-pack, update-ref) must run
 * without it.
 */
export const QUARANTINE_VARIABLES = ['GIT_QUARANTINE_PATH', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES'] as const;

export function withoutQuarantine(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...env };
  for (const name of QUARANTINE_VARIABLES) delete copy[name];
  return copy;
}

export function isQuarantined(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.GIT_QUARANTINE_PATH === 'string' && env.GIT_QUARANTINE_PATH !== '';
}

/**
 * The environment every git child gets: the caller's, pointed at `gitDir`,
 * with messages in English (callers classify some of them) and replace refs
 * ignored, so what is scanned is what is stored.
 */
export function gitEnv(base: NodeJS.ProcessEnv | undefined, gitDir: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(base ?? process.env), LC_ALL: 'C', GIT_NO_REPLACE_OBJECTS: '1', GIT_TERMINAL_PROMPT: '0' };
  if (gitDir !== undefined) env.GIT_DIR = gitDir;
  return env;
}
