/** Why a bearer token was refused. */
export type TokenErrorCode =
  | 'token.malformed'
  | 'token.unknown-issuer'
  | 'token.algorithm'
  | 'token.signature'
  | 'token.expired'
  | 'token.audience'
  | 'token.issuer'
  | 'token.claims'
  /** The claims map to a principal pushgate reserves for itself (`local:…`, `break-glass:…`). */
  | 'token.reserved-principal'
  /** The issuer's discovery document or keys could not be fetched: not the caller's fault. */
  | 'issuer.unavailable';

/**
 * A refused token. `message` is the detail for the audit log and the
 * operator; callers facing the network answer with a generic message.
 */
export class TokenError extends Error {
  override name = 'TokenError';

  constructor(
    readonly code: TokenErrorCode,
    message: string,
    /** The configured issuer's name once the token named a known issuer. */
    readonly issuer?: string,
  ) {
    super(message);
  }
}

export function isTokenError(error: unknown): error is TokenError {
  return error instanceof TokenError;
}
