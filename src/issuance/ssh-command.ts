/** The OpenSSH command line `pushgate ssh` runs: the agent's key and certificate, then git's arguments unchanged. */
import type { AgentState } from './agent-state.js';

/** ssh parses `-o` values like config lines: a path with spaces needs quotes. */
function optionValue(path: string): string {
  return /\s/.test(path) ? `"${path}"` : path;
}

/** Extra options from `PUSHGATE_SSH_OPTIONS`, split on whitespace (no shell quoting). */
export function extraSshOptions(env: NodeJS.ProcessEnv): string[] {
  return (env.PUSHGATE_SSH_OPTIONS ?? '').split(/\s+/).filter((word) => word !== '');
}

/**
 * Host key checking stays whatever the user's ssh configuration says; only
 * the identity is pinned to the pushgate key and certificate.
 */
export function sshArguments(state: AgentState, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    '-o', 'IdentitiesOnly=yes',
    '-o', `IdentityFile=${optionValue(state.keyPath)}`,
    '-o', `CertificateFile=${optionValue(state.certificatePath)}`,
    ...extraSshOptions(env),
    ...args,
  ];
}
