/**
 * An issuer's signing keys, fetched from its JWKS and cached. jose refetches
 * on an unknown `kid` only after a cooldown since the last fetch; a key an
 * issuer rotated in just after that fetch would be refused for the whole
 * cooldown. Here an unknown `kid` forces one refetch, at most once per
 * `forcedRefetchInterval`, so rotation is followed at once and a stream of
 * made-up key ids cannot turn into a stream of requests to the issuer.
 */
import { createRemoteJWKSet, customFetch, errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { TokenError } from './token-error.js';

type RemoteJWKSet = ReturnType<typeof createRemoteJWKSet>;
type VerifyKey = Awaited<ReturnType<RemoteJWKSet>>;

export interface IssuerKeysOptions {
  /** ms per JWKS request. */
  timeout?: number;
  /** ms after a fetch before jose itself refetches for an unknown key. */
  cooldown?: number;
  /** ms keys are used before they are fetched again. */
  cacheMaxAge?: number;
  /** ms between refetches forced by unknown key ids. */
  forcedRefetchInterval?: number;
  now?: () => number;
}

export class IssuerKeys {
  #jwks: { url: string; set: RemoteJWKSet } | undefined;
  #forcedAt = -Infinity;
  #fetches = 0;
  readonly #options: Required<Omit<IssuerKeysOptions, 'now'>>;
  readonly #now: () => number;

  constructor(
    private readonly locate: () => Promise<URL>,
    private readonly issuerName: string,
    options: IssuerKeysOptions = {},
  ) {
    this.#options = {
      timeout: options.timeout ?? 5000,
      cooldown: options.cooldown ?? 30_000,
      cacheMaxAge: options.cacheMaxAge ?? 600_000,
      forcedRefetchInterval: options.forcedRefetchInterval ?? 5000,
    };
    this.#now = options.now ?? Date.now;
  }

  /** How many times keys were fetched (for tests and metrics). */
  get fetches(): number {
    return this.#fetches;
  }

  async #set(): Promise<RemoteJWKSet> {
    const url = await this.locate();
    if (this.#jwks?.url !== url.href) {
      const { timeout, cooldown, cacheMaxAge } = this.#options;
      const set = createRemoteJWKSet(url, {
        timeoutDuration: timeout,
        cooldownDuration: cooldown,
        cacheMaxAge,
        [customFetch]: (href, init) => {
          this.#fetches += 1;
          return fetch(href, init);
        },
      });
      this.#jwks = { url: url.href, set };
    }
    return this.#jwks.set;
  }

  /** The key-resolver `jwtVerify` calls. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    const set = await this.#set();
    try {
      return await set(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && this.#now() - this.#forcedAt >= this.#options.forcedRefetchInterval) {
        this.#forcedAt = this.#now();
        await this.#reload(set);
        return this.#unwrap(set, header, token);
      }
      throw this.#translate(error);
    }
  };

  async #reload(set: RemoteJWKSet): Promise<void> {
    try {
      await set.reload();
    } catch (error) {
      throw this.#translate(error);
    }
  }

  async #unwrap(set: RemoteJWKSet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> {
    try {
      return await set(header, token);
    } catch (error) {
      throw this.#translate(error);
    }
  }

  /** Key selection failures are the token's; anything else means the keys could not be fetched. */
  #translate(error: unknown): unknown {
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return error;
    if (error instanceof TokenError) return error;
    const reason = error instanceof errors.JWKSTimeout ? `no answer within ${this.#options.timeout} ms` : (error as Error).message;
    return new TokenError('issuer.unavailable', `keys of issuer ${this.issuerName} (${this.#jwks?.url ?? 'unknown'}): ${reason}`, this.issuerName);
  }
}
