import type { IdentityConfig, PushgateConfig } from '../config/index.js';
import type { VerifiedCertificate } from '../sshcert/index.js';
import { hasControl } from '../text/escape.js';
import { rolesFromExtensions, sponsorFromExtensions } from './extensions.js';
import { configRoles, principalMatches } from './principals.js';

/** How the caller proved who it is. */
export type IdentitySource = 'certificate' | 'break-glass' | 'local';

/** Who is calling: what access rules, hooks, the queue and the audit log see. */
export interface Identity {
  principal: string;
  roles: string[];
  source: IdentitySource;
  keyId?: string;
  /** Decimal, as ssh-keygen prints it. */
  certSerial?: string;
  /** SHA256:… of the user's (certified) key. */
  keyFingerprint?: string;
  /** The human who sponsored an agent's certificate. */
  sponsor?: string;
  clientAddress?: string;
}

const ROLE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Printable, no spaces or separators: a principal is used in env variables, logs and globs. */
const PRINCIPAL = /^[\x21-\x7e\u00a0-\uffff]{1,256}$/u;

/** Invisible or reordering characters (format controls, bidi overrides, line separators) that would make one principal look like another. */
const INVISIBLE = /[\p{Cf}\u2028\u2029]/u;

export function isUsablePrincipal(principal: string): boolean {
  return PRINCIPAL.test(principal) && !principal.includes(',') && !principal.includes('\ufffd') && !INVISIBLE.test(principal) && !hasControl(principal);
}

export { configRoles, principalMatches };

function mergeRoles(...lists: string[][]): string[] {
  return [...new Set(lists.flat().filter((role) => ROLE.test(role)))];
}

/**
 * The principal a certificate logs in as: the login name when the
 * certificate lists it, else the first principal.
 */
export function choosePrincipal(principals: readonly string[], loginName: string | undefined): string | undefined {
  if (loginName !== undefined && principals.includes(loginName)) return loginName;
  return principals[0];
}

export interface IdentityContext {
  /** The SSH user name the client logged in with. */
  loginName?: string;
  clientAddress?: string;
}

/**
 * The identity a verified certificate stands for. Roles are the union of the
 * certificate's roles extension and the config rules for the principal; role
 * names that are not plain words are dropped.
 */
export function identityFromCertificate(verified: VerifiedCertificate, config: PushgateConfig, context: IdentityContext = {}): Identity {
  const principal = choosePrincipal(verified.principals, context.loginName);
  if (principal === undefined) throw new Error('a verified certificate lists at least one principal');
  const cert = verified.certificate;
  const sponsor = sponsorFromExtensions(verified.extensions, config.identity.sponsorExtension);
  return {
    principal,
    roles: mergeRoles(rolesFromExtensions(verified.extensions, config.identity.roleExtension), configRoles(principal, config.identity)),
    source: 'certificate',
    keyId: cert.keyId,
    certSerial: cert.serial.toString(),
    keyFingerprint: verified.keyFingerprint,
    ...(sponsor !== undefined && sponsor !== '' ? { sponsor } : {}),
    ...(context.clientAddress !== undefined ? { clientAddress: context.clientAddress } : {}),
  };
}

/** A plain key from the break-glass list: `break-glass:<fingerprint>`, roles from config only. */
export function identityFromBreakGlassKey(keyFingerprint: string, config: PushgateConfig, context: IdentityContext = {}): Identity {
  const principal = `break-glass:${keyFingerprint}`;
  return {
    principal,
    roles: mergeRoles(configRoles(principal, config.identity)),
    source: 'break-glass',
    keyFingerprint,
    ...(context.clientAddress !== undefined ? { clientAddress: context.clientAddress } : {}),
  };
}
