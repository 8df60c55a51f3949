import { minimatch } from 'minimatch';
import type { IdentityConfig } from '../config/index.js';

/** Stands in for `/` so that glob wildcards cross it: a principal is a name, not a path. */
const SLASH = '\u2215';

/**
 * Whether a principal matches a glob (`alice`, `ci:*`, `break-glass:*`):
 * `*` matches any run of characters, `/` included (`ci:org/repo`, and the
 * base64 of key fingerprints).
 */
export function principalMatches(principal: string, pattern: string): boolean {
  return minimatch(principal.replaceAll('/', SLASH), pattern.replaceAll('/', SLASH), { dot: true, nonegate: true, nocomment: true });
}

/** Roles config grants a principal (`identity.roles`), on top of those a certificate carries. */
export function configRoles(principal: string, config: IdentityConfig): string[] {
  return config.roles
    .filter((rule) => rule.principals.some((p) => principalMatches(principal, p)))
    .flatMap((rule) => rule.roles);
}
