/**
 * Principals pushgate assigns itself and that no certificate or token may
 * claim: `local:<user>` (a command run on the server's own shell, which the
 * default config makes a reviewer) and `break-glass:<fingerprint>` (a plain key
 * from the break-glass list). A CA-signed `local:root` would otherwise get
 * whatever roles `identity.roles` grants to `local:*`.
 *
 * The comparison is made on a folded form so that look-alikes are refused too:
 * Unicode compatibility forms (NFKC: a fullwidth `：`, ligatures, …), case
 * (`LOCAL:`), and everything that is neither a letter, a digit nor a colon
 * (leading spaces, zero-width characters, `break_glass:`, `break.glass:`).
 */

/** The prefixes, as pushgate writes them. */
export const RESERVED_PRINCIPAL_PREFIXES = ['local:', 'break-glass:'] as const;

/** Characters that read as a colon but that NFKC leaves alone. */
const COLON_LOOKALIKES = /[\u02d0\u02f8\u0589\u05c3\u16ec\u2236\ua789]/gu;

function fold(value: string): string {
  return value.normalize('NFKC').replace(COLON_LOOKALIKES, ':').toLowerCase().replace(/[^\p{L}\p{N}:]/gu, '');
}

const FOLDED_PREFIXES = RESERVED_PRINCIPAL_PREFIXES.map(fold);

/** The reserved prefix `principal` claims (in any look-alike form), or undefined when it claims none. */
export function reservedPrefixOf(principal: string): string | undefined {
  const folded = fold(principal);
  const at = FOLDED_PREFIXES.findIndex((prefix) => folded.startsWith(prefix));
  return at < 0 ? undefined : RESERVED_PRINCIPAL_PREFIXES[at];
}

export function isReservedPrincipal(principal: string): boolean {
  return reservedPrefixOf(principal) !== undefined;
}

/** The first of `principals` that is reserved, if any. */
export function firstReservedPrincipal(principals: readonly string[]): string | undefined {
  return principals.find(isReservedPrincipal);
}

/** Why a principal is refused, for messages (the value itself is the caller's to escape). */
export function reservedMessage(principal: string): string {
  return `principals starting with ${reservedPrefixOf(principal) ?? RESERVED_PRINCIPAL_PREFIXES.join(' or ')} are reserved for identities pushgate assigns itself (the server's shell, break-glass keys); a certificate or token may not claim them`;
}
