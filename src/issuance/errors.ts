/** Why a certificate request (as opposed to its token) was refused. */
export type IssuanceErrorCode =
  | 'request.public-key'
  | 'request.ttl'
  | 'request.body'
  | 'issuance.disabled'
  | 'issuance.failed'
  /** The caller's budget of requests (with a valid token, or without one) is spent for now. */
  | 'rate-limited';

export class IssuanceError extends Error {
  override name = 'IssuanceError';

  constructor(
    readonly code: IssuanceErrorCode,
    message: string,
    /** For `rate-limited`: when to try again, and whether this is the first refusal of the window (the one recorded). */
    readonly rate?: { retryAfterSeconds: number; first: boolean },
  ) {
    super(message);
  }
}
