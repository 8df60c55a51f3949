/**
 * `pushgate queue … --remote NAME|URL`: run a queue command on the server a
 * git remote points at, from the caller's clone, the way git itself reaches
 * that server. The URL is `git remote get-url --push NAME` (insteadOf
 * rewrites applied by git); the SSH program is the one git would use:
 * GIT_SSH_COMMAND, else core.sshCommand, else GIT_SSH, else `ssh`. The
 * command then runs as `<ssh> [-p PORT] [USER@]HOST queue …`, which the
 * gateway (or `pushgate shell` behind sshd) serves; its output and exit
 * status are the server's.
 *
 * Written by hand: the two URL forms git accepts for SSH are small and
 * fixed, and the libraries that parse git URLs also guess about hosting
 * sites, which is not wanted here.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { CliError, EXIT_ERROR, EXIT_REFUSED } from './exit.js';

export interface SshTarget {
  kind: 'ssh';
  user?: string;
  host: string;
  port?: string;
}

export type RemoteTarget = SshTarget | { kind: 'local'; path: string };

/** `ssh://[user@]host[:port]/path`, `git+ssh://…`, scp-like `[user@]host:path`, or a local path / file:// URL. */
export function parseRemoteUrl(url: string): RemoteTarget | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (scheme !== null) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'file') return { kind: 'local', path: url.slice('file://'.length) };
    if (name !== 'ssh' && name !== 'git+ssh' && name !== 'ssh+git') return undefined;
    const rest = url.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    const at = authority.lastIndexOf('@');
    const user = at < 0 ? undefined : decodeURIComponent(authority.slice(0, at));
    const hostPort = at < 0 ? authority : authority.slice(at + 1);
    const parsed = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d*))?$/.exec(hostPort);
    if (parsed === null) return undefined;
    const host = parsed[1] ?? parsed[2]!;
    return sshTarget(user, host, parsed[3] === undefined || parsed[3] === '' ? undefined : parsed[3]);
  }
  // git: a colon before any slash makes it scp-like; otherwise it is a path.
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) {
    const authority = url.slice(0, colon);
    const at = authority.lastIndexOf('@');
    const user = at < 0 ? undefined : authority.slice(0, at);
    let host = at < 0 ? authority : authority.slice(at + 1);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    return sshTarget(user, host, undefined);
  }
  return url === '' ? undefined : { kind: 'local', path: url };
}

function sshTarget(user: string | undefined, host: string, port: string | undefined): SshTarget | undefined {
  // A host or user that ssh would read as an option is refused, as git does.
  if (host === '' || host.startsWith('-') || (user !== undefined && (user === '' || user.startsWith('-')))) return undefined;
  return { kind: 'ssh', host, ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) };
}

function git(args: string[]): { status: number; stdout: string; stderr: string } {
  const done = spawnSync('git', args, { encoding: 'utf8' });
  if (done.error !== undefined) throw new CliError(`git could not be run (${done.error.message}); --remote needs git on the PATH`, EXIT_ERROR);
  return { status: done.status ?? 2, stdout: done.stdout, stderr: done.stderr };
}

/** The URL `--remote` names: a URL as given, else the push URL of the named remote of the clone in the current directory. */
export function remoteUrl(remote: string): string {
  if (remote.includes(':') || remote.includes('/')) return remote;
  const got = git(['remote', 'get-url', '--push', remote]);
  if (got.status !== 0) {
    const why = got.stderr.trim().split('\n')[0] ?? '';
    throw new CliError(`--remote ${JSON.stringify(remote)}: not a remote of a git clone here (${why.replace(/^(fatal|error): /, '')}); run it in the clone you pushed from, or give the URL`, EXIT_REFUSED);
  }
  return got.stdout.trim();
}

/** The SSH command git would run, as shell text (GIT_SSH, a program name, is quoted). */
export function gitSshCommand(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GIT_SSH_COMMAND) return env.GIT_SSH_COMMAND;
  const configured = git(['config', '--get', 'core.sshCommand']);
  if (configured.status === 0 && configured.stdout.trim() !== '') return configured.stdout.trim();
  if (env.GIT_SSH) return shellWord(env.GIT_SSH);
  return 'ssh';
}

function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The queue command's words as the server takes them: the subcommand, its operands, and the options given on the command line. */
export function forwardedWords(command: Command): string[] {
  const words = [command.name(), ...command.args];
  for (const option of command.options) {
    const key = option.attributeName();
    if (key === 'remote' || key === 'config') continue;
    if (command.getOptionValueSource(key) !== 'cli') continue;
    const value: unknown = command.getOptionValue(key);
    const flag = option.long ?? option.short;
    if (flag === undefined) continue;
    if (typeof value === 'boolean') {
      if (value) words.push(flag);
    } else if (value !== undefined) {
      words.push(flag, String(value));
    }
  }
  return words;
}

/** Runs `queue <words>` on the server over SSH; resolves to its exit status (2 when ssh itself failed). */
export function runOverSsh(target: SshTarget, words: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const sshCommand = gitSshCommand(env);
  const destination = target.user === undefined ? target.host : `${target.user}@${target.host}`;
  const remoteCommand = ['queue', ...words].map(shellWord).join(' ');
  const args = [...(target.port === undefined ? [] : ['-p', target.port]), destination, remoteCommand];
  // As git does: the command is shell text, its arguments follow it.
  const child = spawn('sh', ['-c', `${sshCommand} "$@"`, sshCommand, ...args], { stdio: 'inherit', env });
  return new Promise((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`pushgate: ${sshCommand} could not be started: ${error.message}\n`);
      resolve(EXIT_ERROR);
    });
    child.once('close', (code, signal) => {
      if (code === 255 || (code === null && signal !== null)) {
        process.stderr.write(`pushgate: ${destination} could not be reached with ${sshCommand.split(' ')[0]}: the queue was not asked (as git would, it used GIT_SSH_COMMAND, core.sshCommand or ssh)\n`);
        resolve(EXIT_ERROR);
        return;
      }
      resolve(code ?? EXIT_ERROR);
    });
  });
}
