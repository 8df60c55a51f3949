/** Why a certificate request (as opposed to its token) was refused. */
export type IssuanceErrorCode =
  | 'request.public-key'
  | 'request.ttl'
  | 'request.body'
  | 'issuance.disabled'
  | 'issuance.failed';

export class IssuanceError extends Error {
  override name = 'IssuanceError';

  constructor(
    readonly code: IssuanceErrorCode,
    message: string,
  ) {
    super(message);
  }
}
