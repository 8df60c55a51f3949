export {
  choosePrincipal, configRoles, identityFromBreakGlassKey, identityFromCertificate, isUsablePrincipal,
  type Identity, type IdentityContext, type IdentitySource,
} from './identity.js';
export { ROLES_EXTENSION, SPONSOR_EXTENSION, rolesExtension, rolesFromExtensions, sponsorExtension, sponsorFromExtensions } from './extensions.js';
