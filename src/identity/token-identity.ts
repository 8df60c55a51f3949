import { renderPrincipal, rolesFromClaims, sponsorFromClaims } from './claims.js';
import type { VerifiedToken } from './oidc-verify.js';

/** Who a verified token stands for, ready to be written into a certificate. */
export interface TokenIdentity {
  principal: string;
  roles: string[];
  sponsor?: string;
  /** The configured issuer's short name. */
  issuer: string;
  /** `sub`, or `-` when the token has none. */
  subject: string;
  /** `jti`, or `-` when the token has none. */
  tokenId: string;
}

const PRINTABLE = /[^\x21-\x7e]/g;

function label(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '-';
  return value.replace(PRINTABLE, '?').slice(0, 128);
}

/** Throws a TokenError (`token.claims`) when the claims give no usable principal. */
export function identityFromToken(verified: VerifiedToken): TokenIdentity {
  const { issuer, claims, issuerName } = verified;
  const principal = renderPrincipal(issuer.principal, claims, issuerName);
  const sponsor = sponsorFromClaims(issuer, claims, issuerName);
  return {
    principal,
    roles: rolesFromClaims(issuer, claims),
    ...(sponsor !== undefined ? { sponsor } : {}),
    issuer: issuerName,
    subject: label(claims.sub),
    tokenId: label(claims.jti),
  };
}

/** The certificate key id: issuer, subject and token id, so a certificate leads back to its token. */
export function certificateKeyId(identity: TokenIdentity): string {
  return `oidc:${identity.issuer} sub:${identity.subject} jti:${identity.tokenId}`;
}
