import type { IssuerConfig } from '../../src/config/index.js';
import { AUDIENCE } from './idp.js';

/** An issuer as the config module would hand it over, for the test IdP. */
export function issuerConfig(issuer: string, overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name: 'corp',
    issuer,
    audience: [AUDIENCE],
    algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    jwksUri: null,
    clockSkew: 30_000,
    requiredClaims: [],
    principal: '{{sub}}',
    rolesClaim: 'scope',
    roleMap: { 'git:push': ['agent'], 'git:review': ['reviewer'] },
    defaultRoles: [],
    sponsorClaim: 'act.sub',
    ...overrides,
  };
}
