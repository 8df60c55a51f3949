/**
 * The environment of a git command run for a client: a few basics of the
 * server's own environment, the validated GIT_PROTOCOL, and PUSHGATE_*
 * describing the caller for the hooks. Nothing else the client sends passes.
 */
import type { Identity } from '../identity/index.js';
import { escapeControl } from '../text/escape.js';

const KEPT_FROM_SERVER = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'TZ', 'TMPDIR'] as const;

/** `version=2`, `version=1`, `version=0`, as git clients send it. */
const GIT_PROTOCOL = /^version=[0-2]$/;

export function isValidGitProtocol(value: string): boolean {
  return GIT_PROTOCOL.test(value);
}

/**
 * Env values cannot hold NUL, and the hooks print these values: every
 * control character (C0, C1, bidi overrides, line separators) is escaped
 * visibly, as everywhere pushgate shows text from a certificate.
 */
function clean(value: string): string {
  return escapeControl(value);
}

/** The PUSHGATE_* variables the pre-receive hook reads. */
export function pushgateEnv(identity: Identity, session: string): Record<string, string> {
  const env: Record<string, string> = {
    PUSHGATE_PRINCIPAL: clean(identity.principal),
    PUSHGATE_ROLES: identity.roles.join(','),
    PUSHGATE_SESSION: clean(session),
  };
  const optional: Array<[string, string | undefined]> = [
    ['PUSHGATE_KEY_ID', identity.keyId],
    ['PUSHGATE_CERT_SERIAL', identity.certSerial],
    ['PUSHGATE_KEY_FINGERPRINT', identity.keyFingerprint],
    ['PUSHGATE_CLIENT_ADDRESS', identity.clientAddress],
    ['PUSHGATE_SPONSOR', identity.sponsor],
  ];
  for (const [name, value] of optional) if (value !== undefined) env[name] = clean(value);
  return env;
}

export interface GitEnvOptions {
  identity: Identity;
  session: string;
  /** What the client asked for; dropped unless valid. */
  gitProtocol?: string | undefined;
  /** The server's environment. */
  base?: NodeJS.ProcessEnv;
}

export function gitChildEnv(options: GitEnvOptions): NodeJS.ProcessEnv {
  const base = options.base ?? process.env;
  const env: NodeJS.ProcessEnv = {};
  for (const name of KEPT_FROM_SERVER) {
    const value = base[name];
    if (value !== undefined) env[name] = value;
  }
  if (env.PATH === undefined) env.PATH = '/usr/local/bin:/usr/bin:/bin';
  if (options.gitProtocol !== undefined && isValidGitProtocol(options.gitProtocol)) env.GIT_PROTOCOL = options.gitProtocol;
  return { ...env, ...pushgateEnv(options.identity, options.session) };
}
