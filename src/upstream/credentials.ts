/**
 * The environment of a git process that talks to an upstream, and of no
 * other process. The credential itself never passes through pushgate's
 * arguments or environment:
 *
 *  - ssh: GIT_SSH_COMMAND names the key file and the pinned known_hosts
 *    file, with no agent, no other identity, no user config and no prompt;
 *  - https: git's own credential protocol, configured through
 *    GIT_CONFIG_COUNT/KEY/VALUE (not `-c`, which would show in the argument
 *    list): every inherited helper is reset, then a helper that reads
 *    tokenFile itself answers `get` (the token goes from the file to git's
 *    stdin pipe; `printf` is a shell builtin, so it is in no argument list),
 *    or the administrator's credentialHelper does.
 *
 * Written here rather than taken from a library: no kept library builds a
 * git credential environment, and this is a handful of lines of git's
 * documented interface.
 */
import type { UpstreamConfig } from '../config/index.js';

/** Variables that would send git elsewhere, add credentials, or prompt. */
const DROPPED = /^(GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+|PARAMETERS|GLOBAL|SYSTEM|NOSYSTEM)|GIT_SSH|GIT_SSH_COMMAND|GIT_SSH_VARIANT|GIT_ASKPASS|SSH_ASKPASS|SSH_AUTH_SOCK|GIT_PROXY_COMMAND|GIT_PUSH_OPTION_.*|GIT_TRACE.*|GIT_CURL_VERBOSE|PUSHGATE_.*)$/;

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** ssh with only pushgate's deploy key and the pinned host key; fails rather than asks. */
export function sshCommand(upstream: UpstreamConfig): string {
  const connect = Math.max(1, Math.ceil(upstream.timeout / 1000));
  return [
    'ssh', '-F', '/dev/null',
    '-i', shellQuote(upstream.sshKeyFile ?? '/dev/null'),
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ForwardAgent=no',
    '-o', shellQuote(`UserKnownHostsFile="${upstream.knownHostsFile ?? '/dev/null'}"`), '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'UpdateHostKeys=no', '-o', 'BatchMode=yes', '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no', '-o', `ConnectTimeout=${connect}`, '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=2',
  ].join(' ');
}

/** The credential helper that answers `get` from tokenFile. */
export function tokenHelper(upstream: UpstreamConfig): string {
  return `!f() { test "$1" = get || exit 0; printf 'username=%s\\n' ${shellQuote(upstream.username ?? '')}; printf 'password=%s\\n' "$(cat ${shellQuote(upstream.tokenFile ?? '/dev/null')})"; }; f`;
}

/** Config git reads from the environment: key/value pairs, in order. */
function configPairs(upstream: UpstreamConfig): Array<[string, string]> {
  // An empty helper first clears every helper from the system and user config.
  const pairs: Array<[string, string]> = [['credential.helper', '']];
  if (upstream.tokenFile !== undefined) pairs.push(['credential.helper', tokenHelper(upstream)]);
  else if (upstream.credentialHelper !== undefined) pairs.push(['credential.helper', upstream.credentialHelper]);
  if (upstream.caFile !== undefined) pairs.push(['http.sslCAInfo', upstream.caFile]);
  pairs.push(['core.askPass', ''], ['credential.interactive', 'false'], ['http.sslVerify', 'true']);
  return pairs;
}

/**
 * `base` without anything that could redirect or prompt, plus what this
 * upstream needs. Only for git processes that talk to the upstream.
 */
export function upstreamEnv(upstream: UpstreamConfig, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!DROPPED.test(name)) env[name] = value;
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_SSH_COMMAND = sshCommand(upstream);
  env.GIT_SSH_VARIANT = 'ssh';
  // git lets these variables override http.sslCAInfo / http.sslVerify: a CA bundle (or a
  // verify switch) in pushgate's own environment must not replace the upstream's caFile.
  delete env.GIT_SSL_NO_VERIFY;
  if (upstream.caFile !== undefined) {
    env.GIT_SSL_CAINFO = upstream.caFile;
    delete env.GIT_SSL_CAPATH;
  }
  const pairs = configPairs(upstream);
  env.GIT_CONFIG_COUNT = String(pairs.length);
  pairs.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}
