/**
 * Verifies bearer tokens from the configured OIDC issuers: the issuer is the
 * one the token's `iss` names (there is no fallback), its keys come from
 * discovery + JWKS, and every check is explicit: algorithm allowlist,
 * signature, `iss`, `aud`, `exp`, `nbf`, `iat` with the issuer's clock
 * skew, and the issuer's required claims.
 */
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import type { IssuerConfig } from '../config/index.js';
import { checkRequiredClaims, type Claims } from './claims.js';
import { JwksLocator } from './discovery.js';
import { IssuerKeys, type IssuerKeysOptions } from './issuer-keys.js';
import { TokenError } from './token-error.js';

/** A JWT in compact form, not more than this long. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface VerifiedToken {
  issuer: IssuerConfig;
  /** The issuer's short name (`name`, which defaults to its host). */
  issuerName: string;
  claims: Claims;
  header: ProtectedHeaderParameters;
}

export interface VerifierOptions extends IssuerKeysOptions {
  /** ms a discovery document is reused. */
  discoveryMaxAge?: number;
}

interface Entry {
  config: IssuerConfig;
  name: string;
  keys: IssuerKeys;
}

export class TokenVerifier {
  readonly #issuers = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(issuers: readonly IssuerConfig[], options: VerifierOptions = {}) {
    this.#now = options.now ?? Date.now;
    for (const config of issuers) {
      const name = config.name;
      const locate = config.jwksUri !== null
        ? ((url: URL) => () => Promise.resolve(url))(new URL(config.jwksUri))
        : ((locator: JwksLocator) => () => locator.jwksUri())(new JwksLocator(config.issuer, name, {
            ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
            ...(options.discoveryMaxAge !== undefined ? { maxAge: options.discoveryMaxAge } : {}),
            now: this.#now,
          }));
      this.#issuers.set(config.issuer, { config, name, keys: new IssuerKeys(locate, name, { ...options, now: this.#now }) });
    }
  }

  /** Key fetches so far for an issuer (by its `iss`). */
  keyFetches(iss: string): number {
    return this.#issuers.get(iss)?.keys.fetches ?? 0;
  }

  /** Resolves to the verified token; rejects with a TokenError. */
  async verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw new TokenError('token.malformed', 'not a signed JWT in compact form');
    }
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch (error) {
      throw new TokenError('token.malformed', `not a readable JWT: ${(error as Error).message}`);
    }
    if (typeof unverified.iss !== 'string') throw new TokenError('token.unknown-issuer', 'the token names no issuer (iss)');
    const entry = this.#issuers.get(unverified.iss);
    if (entry === undefined) throw new TokenError('token.unknown-issuer', `issuer ${JSON.stringify(unverified.iss.slice(0, 200))} is not configured`);
    const { config, name } = entry;
    // Checked before any key is looked up: `none` and HMAC never get near a key.
    const allowed: readonly string[] = config.algorithms;
    if (typeof header.alg !== 'string' || !allowed.includes(header.alg)) {
      throw new TokenError('token.algorithm', `algorithm ${JSON.stringify(header.alg)} is not allowed for issuer ${name} (allowed: ${config.algorithms.join(', ')})`, name);
    }
    const skewSeconds = Math.ceil(config.clockSkew / 1000);
    const now = new Date(this.#now());
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, entry.keys.resolve, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: [...config.algorithms],
        clockTolerance: skewSeconds,
        requiredClaims: ['exp'],
        currentDate: now,
      }));
    } catch (error) {
      throw translate(error, name);
    }
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (claims.iat !== undefined && claims.iat > nowSeconds + skewSeconds) {
      throw new TokenError('token.claims', `issued in the future (iat ${claims.iat}, now ${nowSeconds})`, name);
    }
    checkRequiredClaims(config.requiredClaims, claims, name);
    return { issuer: config, issuerName: name, claims, header };
  }
}

function translate(error: unknown, name: string): TokenError {
  if (error instanceof TokenError) return error;
  const message = (error as Error).message;
  if (error instanceof errors.JWTExpired) return new TokenError('token.expired', `expired: ${message}`, name);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new TokenError('token.audience', `audience ${JSON.stringify(error.payload.aud)} does not name this server`, name);
    if (error.claim === 'iss') return new TokenError('token.issuer', `issuer ${JSON.stringify(error.payload.iss)} does not match`, name);
    if (error.claim === 'exp' && error.reason === 'missing') return new TokenError('token.claims', 'the token never expires (no exp claim)', name);
    return new TokenError('token.claims', `claim ${error.claim}: ${message}`, name);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('token.algorithm', message, name);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenError('token.signature', 'the signature does not verify with the issuer\'s key', name);
  if (error instanceof errors.JWKSNoMatchingKey) return new TokenError('token.signature', 'no key of the issuer matches the token\'s kid and alg', name);
  if (error instanceof errors.JWKSMultipleMatchingKeys) return new TokenError('token.signature', 'the token names no kid and several keys of the issuer match', name);
  if (error instanceof errors.JOSENotSupported) return new TokenError('token.algorithm', message, name);
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return new TokenError('token.malformed', message, name);
  return new TokenError('token.malformed', message, name);
}
