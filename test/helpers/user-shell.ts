/**
 * Commands run as a user's shell would run them: none of the test runner's
 * loaders, coverage hooks or npm settings, and no `pushgate` on the PATH
 * unless the test puts one there.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pushgateBin } from './tools.js';

const RUNNER_ONLY = /^(NODE_OPTIONS|NODE_V8_COVERAGE|TAP|_TAPJS|npm_)/i;

/** The PATH minus npm's node_modules/.bin entries and any directory holding a `pushgate`. */
export function pathWithoutPushgate(path = process.env.PATH ?? ''): string {
  return path.split(delimiter).filter((dir) => dir !== '' && !dir.endsWith('/node_modules/.bin') && !existsSync(join(dir, 'pushgate'))).join(delimiter);
}

/**
 * `command args…` in a user's environment plus `extra`. tap puts its
 * NODE_OPTIONS and _TAPJS_* variables back into every child's environment, so
 * the command runs through `env -u …`, which removes them and then becomes the
 * command (exec: the pid that was started is the command's).
 */
export function asUser(command: string, args: readonly string[], extra: NodeJS.ProcessEnv = {}): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!RUNNER_ONLY.test(name)) env[name] = value;
  const unset = [...new Set(['NODE_OPTIONS', ...Object.keys(process.env).filter((name) => RUNNER_ONLY.test(name) && !(name in extra))])];
  return {
    command: 'env',
    args: [...unset.flatMap((name) => ['-u', name]), command, ...args],
    env: { ...env, PATH: pathWithoutPushgate(env.PATH), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra },
  };
}

/** A PATH whose `pushgate` is this checkout's (as after `npm install -g` or `npm link`), in a directory removed when the test ends. */
export function pathWithThisPushgate(t: { teardown(fn: () => void): void }, path = process.env.PATH ?? ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushgate-on-path-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(pushgateBin, join(dir, 'pushgate'));
  return `${dir}${delimiter}${pathWithoutPushgate(path)}`;
}
