/** Schema pieces for OIDC issuers: algorithms, claims and principal templates. */
import { z } from 'zod';
import { expected, typeError } from './messages.js';
import { didYouMean } from './suggest.js';
import { JWT_ALGORITHMS, type ClaimValue, type JwtAlgorithm, type RequiredClaim } from './types.js';

export const DEFAULT_ALGORITHMS: JwtAlgorithm[] = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];

const CLAIM = /^[A-Za-z_][\w:-]*(?:\.[A-Za-z_][\w:-]*)*$/;

export const claimName = z
  .string({ error: typeError('a claim name') })
  .regex(CLAIM, { error: 'a claim name is letters, digits, _ : - with dots between nested names (act.sub)' });

/**
 * Refuses `none` and HMAC outright: a server that verifies with the issuer's
 * public keys must never accept a token "signed" with that public key as an
 * HMAC secret, nor an unsigned one.
 */
export const jwtAlgorithm = z.unknown().transform((value, ctx): JwtAlgorithm => {
  const known: readonly string[] = JWT_ALGORITHMS;
  if (typeof value === 'string' && known.includes(value)) return value as JwtAlgorithm;
  let message: string;
  if (typeof value === 'string' && value.toLowerCase() === 'none') message = 'algorithm "none" is never accepted: tokens must be signed';
  else if (typeof value === 'string' && /^hs\d+$/i.test(value)) message = `${value} is refused: HMAC algorithms would let anyone holding the issuer's public key forge tokens; use an asymmetric algorithm (${DEFAULT_ALGORITHMS.join(', ')})`;
  else message = `${expected(`one of ${JWT_ALGORITHMS.join(', ')}`, value)}${typeof value === 'string' ? didYouMean(value, known) : ''}`;
  ctx.issues.push({ code: 'custom', message, input: value });
  return z.NEVER;
});

function isClaimValue(value: unknown): value is ClaimValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * Either a list of claims that must be present (`[email, sub]`) or a mapping
 * of claim → accepted value(s) (`{ repository_owner: acme, email_verified: true }`).
 */
export const requiredClaims = z.unknown().transform((value, ctx): RequiredClaim[] => {
  const out: RequiredClaim[] = [];
  const problem = (path: PropertyKey[], message: string, input: unknown) => ctx.issues.push({ code: 'custom', path, message, input });
  if (Array.isArray(value)) {
    value.forEach((claim, index) => {
      if (typeof claim === 'string' && CLAIM.test(claim)) out.push({ claim, values: null });
      else problem([index], expected('a claim name', claim), claim);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [claim, accepted] of Object.entries(value)) {
      if (!CLAIM.test(claim)) problem([claim], 'not a claim name', claim);
      const values = Array.isArray(accepted) ? accepted : [accepted];
      if (values.length === 0 || !values.every(isClaimValue)) {
        problem([claim], expected('a value or a list of values (strings, numbers, true/false)', accepted), accepted);
      } else {
        out.push({ claim, values });
      }
    }
  } else {
    problem([], expected('a list of claim names or a mapping of claim: value', value), value);
  }
  return out;
});

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** `{{sub}}`, `ci:{{repository}}`: placeholders name claims; at least one is needed. */
export const principalTemplate = z
  .string({ error: typeError('a principal template such as {{sub}}') })
  .superRefine((template, ctx) => {
    const names = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
    const rest = template.replace(PLACEHOLDER, '');
    if (rest.includes('{') || rest.includes('}')) ctx.addIssue({ code: 'custom', message: 'unbalanced braces: placeholders are written {{claim}}' });
    else if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'must contain a {{claim}} placeholder such as {{sub}}, or every token would get the same principal' });
    for (const name of names) {
      if (!CLAIM.test(name)) ctx.addIssue({ code: 'custom', message: `{{${name}}} is not a claim name` });
    }
  });
