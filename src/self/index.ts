/**
 * How a shell runs this very installation of pushgate, for the commands
 * pushgate prints for someone (or something: git's core.sshCommand) to run.
 *
 * `pushgate` is printed only when the PATH finds this program under that name
 * (a global npm install, `npm link`, install.sh's link, the demo's env files);
 * otherwise the absolute node binary and entry point, which work from any shell.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bin/pushgate.js of this installation. */
export const PUSHGATE_ENTRY = fileURLToPath(new URL('../../../bin/pushgate.js', import.meta.url));

/** Characters a POSIX shell takes literally in a word. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for sh: as it is when nothing in it is special, else in single quotes. */
export function shellWord(value: string): string {
  if (PLAIN.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A whole command as one argument to a shell, for a command line such as
 * `git config core.sshCommand "…"`: double quotes read best and are used when
 * nothing inside would be expanded there.
 */
export function shellArgument(value: string): string {
  return /^[^"$`\\!]*$/.test(value) ? `"${value}"` : shellWord(value);
}

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The `pushgate` the user's PATH finds, as a shell would. Directories npm adds
 * while it runs a script or `npx` (`…/node_modules/.bin`) are skipped: they are
 * gone from the shell the user types the printed command into.
 */
export function pushgateOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir) || dir.endsWith(`${sep}node_modules${sep}.bin`)) continue;
    const candidate = join(dir, 'pushgate');
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The words that start this installation of pushgate from a shell with `env`'s PATH. */
export function pushgateCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = pushgateOnPath(env);
  const self = realpath(PUSHGATE_ENTRY) ?? PUSHGATE_ENTRY;
  if (found !== undefined && realpath(found) === self) return ['pushgate'];
  return [process.execPath, PUSHGATE_ENTRY];
}

/** `pushgate ARGS…` as a line for sh, runnable where it is printed. */
export function pushgateCommandLine(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  return [...pushgateCommand(env), ...args].map(shellWord).join(' ');
}
