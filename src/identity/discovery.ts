/**
 * OpenID Connect discovery for token verification: the one thing a verifier
 * needs from `/.well-known/openid-configuration` is `jwks_uri`.
 */
import { TokenError } from './token-error.js';

export interface DiscoveryOptions {
  /** ms per request. */
  timeout?: number;
  /** ms a discovered document is reused before it is fetched again. */
  maxAge?: number;
  now?: () => number;
}

export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
}

/** Fetches JSON without following redirects; any failure is the issuer's, not the caller's. */
export async function fetchJson(url: URL, timeout: number, what: string, issuerName: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    throw new TokenError('issuer.unavailable', `${what} ${url.href}: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeout} ms` : (error as Error).message}`, issuerName);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new TokenError('issuer.unavailable', `${what} ${url.href}: HTTP ${response.status}`, issuerName);
  }
  try {
    return await response.json();
  } catch {
    throw new TokenError('issuer.unavailable', `${what} ${url.href}: not JSON`, issuerName);
  }
}

/** The `jwks_uri` an issuer publishes, cached; concurrent callers share one request. */
export class JwksLocator {
  #value: { url: URL; at: number } | undefined;
  #pending: Promise<URL> | undefined;
  readonly #timeout: number;
  readonly #maxAge: number;
  readonly #now: () => number;

  constructor(
    readonly issuer: string,
    readonly issuerName: string,
    options: DiscoveryOptions = {},
  ) {
    this.#timeout = options.timeout ?? 5000;
    this.#maxAge = options.maxAge ?? 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  async jwksUri(): Promise<URL> {
    const cached = this.#value;
    if (cached !== undefined && this.#now() - cached.at < this.#maxAge) return cached.url;
    this.#pending ??= this.#discover().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #discover(): Promise<URL> {
    const url = discoveryUrl(this.issuer);
    const document = await fetchJson(url, this.#timeout, 'discovery', this.issuerName);
    const fields = (document ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
    // A document for another issuer would let that issuer's keys sign for this one.
    if (fields.issuer !== this.issuer) {
      throw new TokenError('issuer.unavailable', `discovery ${url.href} names issuer ${JSON.stringify(fields.issuer)}, not ${JSON.stringify(this.issuer)}`, this.issuerName);
    }
    let jwks: URL;
    try {
      jwks = new URL(String(fields.jwks_uri));
    } catch {
      throw new TokenError('issuer.unavailable', `discovery ${url.href} has no usable jwks_uri`, this.issuerName);
    }
    if (jwks.protocol !== 'https:' && !(jwks.protocol === 'http:' && url.protocol === 'http:')) {
      throw new TokenError('issuer.unavailable', `discovery ${url.href}: jwks_uri ${jwks.href} must use https`, this.issuerName);
    }
    this.#value = { url: jwks, at: this.#now() };
    return jwks;
  }
}
