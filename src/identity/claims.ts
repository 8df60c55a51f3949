/**
 * Claims → who the caller is: the principal from the issuer's template, roles
 * through the issuer's map, and the human sponsoring an agent.
 */
import type { ClaimValue, IssuerConfig, RequiredClaim } from '../config/index.js';
import { isReservedPrincipal, reservedMessage } from './reserved.js';
import { TokenError } from './token-error.js';

export type Claims = Readonly<Record<string, unknown>>;

/** A claim by name; dots reach into objects (`act.sub`), a claim literally named with a dot wins. */
export function claimValue(claims: Claims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export const MAX_PRINCIPAL_LENGTH = 128;
const UNSAFE = /[^A-Za-z0-9._@:+-]+/g;

/**
 * Principals end up in environment variables, logs, globs and certificate
 * fields: anything outside a small charset becomes `_`. Note that this maps
 * distinct values such as `a/b` and `a_b` to the same principal; templates
 * should be built from claims the issuer keeps unique in that charset.
 */
export function sanitizePrincipal(value: string): string {
  return value.replace(UNSAFE, '_');
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Fills `{{claim}}` placeholders; a missing or non-scalar claim refuses the token. */
export function renderPrincipal(template: string, claims: Claims, issuerName?: string): string {
  const rendered = template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = scalar(claimValue(claims, name));
    if (value === undefined || value === '') throw new TokenError('token.claims', `the principal template needs claim "${name}", which the token does not carry as a string`, issuerName);
    return value;
  });
  const principal = sanitizePrincipal(rendered);
  if (principal === '' || /^[_.]*$/.test(principal)) throw new TokenError('token.claims', `the principal template ${JSON.stringify(template)} gives an empty principal`, issuerName);
  if (principal.length > MAX_PRINCIPAL_LENGTH) throw new TokenError('token.claims', `the principal from ${JSON.stringify(template)} is longer than ${MAX_PRINCIPAL_LENGTH} characters`, issuerName);
  // Checked on the rendered value and on the sanitised one: `local：root` and `local:root` alike.
  if (isReservedPrincipal(rendered) || isReservedPrincipal(principal)) {
    throw new TokenError('token.reserved-principal', `the principal ${JSON.stringify(principal)} is refused: ${reservedMessage(principal)}`, issuerName);
  }
  return principal;
}

/** A roles claim: a list of strings, or one space-separated string such as `scope`. */
export function claimWords(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter((w) => w !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

export function rolesFromClaims(issuer: Pick<IssuerConfig, 'rolesClaim' | 'roleMap' | 'defaultRoles'>, claims: Claims): string[] {
  const roles = new Set(issuer.defaultRoles);
  if (issuer.rolesClaim !== null) {
    for (const word of claimWords(claimValue(claims, issuer.rolesClaim))) {
      // Only own properties: a claim value such as "constructor" must not reach the prototype.
      if (!Object.hasOwn(issuer.roleMap, word)) continue;
      for (const role of issuer.roleMap[word]!) roles.add(role);
    }
  }
  return [...roles];
}

/**
 * The sponsoring human (token exchange: `act.sub`), sanitised like a
 * principal; none when absent. A sponsor that claims a reserved principal
 * refuses the token: four-eyes compares reviewers with sponsors.
 */
export function sponsorFromClaims(issuer: Pick<IssuerConfig, 'sponsorClaim'>, claims: Claims, issuerName?: string): string | undefined {
  if (issuer.sponsorClaim === null) return undefined;
  const value = scalar(claimValue(claims, issuer.sponsorClaim));
  if (value === undefined) return undefined;
  const sponsor = sanitizePrincipal(value).slice(0, MAX_PRINCIPAL_LENGTH);
  if (isReservedPrincipal(value) || isReservedPrincipal(sponsor)) {
    throw new TokenError('token.reserved-principal', `the sponsor ${JSON.stringify(sponsor)} is refused: ${reservedMessage(sponsor)}`, issuerName);
  }
  return sponsor === '' ? undefined : sponsor;
}

function accepts(values: readonly ClaimValue[], actual: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((item) => values.includes(item as ClaimValue));
  return values.includes(actual as ClaimValue);
}

/** Throws `token.claims` for the first required claim that is missing or has a value not accepted. */
export function checkRequiredClaims(required: readonly RequiredClaim[], claims: Claims, issuerName?: string): void {
  for (const rule of required) {
    const actual = claimValue(claims, rule.claim);
    if (actual === undefined || actual === null) throw new TokenError('token.claims', `required claim "${rule.claim}" is missing`, issuerName);
    if (rule.values !== null && !accepts(rule.values, actual)) {
      throw new TokenError('token.claims', `claim "${rule.claim}" is ${JSON.stringify(actual).slice(0, 200)}, not one of ${JSON.stringify(rule.values)}`, issuerName);
    }
  }
}
