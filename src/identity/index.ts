export {
  choosePrincipal, configRoles, identityFromBreakGlassKey, identityFromCertificate, isUsablePrincipal, principalMatches,
  type Identity, type IdentityContext, type IdentitySource,
} from './identity.js';
export { ROLES_EXTENSION, SPONSOR_EXTENSION, rolesExtension, rolesFromExtensions, sponsorExtension, sponsorFromExtensions } from './extensions.js';
export { TokenError, isTokenError, type TokenErrorCode } from './token-error.js';
export { TokenVerifier, MAX_TOKEN_LENGTH, type VerifiedToken, type VerifierOptions } from './oidc-verify.js';
export { claimValue, claimWords, checkRequiredClaims, renderPrincipal, rolesFromClaims, sanitizePrincipal, sponsorFromClaims, MAX_PRINCIPAL_LENGTH, type Claims } from './claims.js';
export { identityFromToken, certificateKeyId, type TokenIdentity } from './token-identity.js';
export {
  obtainToken, checkServiceUrl, readSecretFile, TokenSourceError, TOKEN_EXCHANGE_GRANT,
  type ClientAuthMethod, type DevicePrompt, type ObtainOptions, type TokenFlow, type TokenSourceErrorCode, type TokenSourceSettings,
} from './token-source.js';
export { RESERVED_PRINCIPAL_PREFIXES, firstReservedPrincipal, isReservedPrincipal, reservedMessage, reservedPrefixOf } from './reserved.js';
