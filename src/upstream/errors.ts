/** Every failure of the upstream module is an UpstreamError with a stable code. */
export type UpstreamErrorCode =
  /** The upstream could not be reached, timed out or refused the login. */
  | 'upstream.unavailable'
  /** The upstream refused one or more ref updates. */
  | 'upstream.rejected'
  /** The repository matches more than one upstream, or its name cannot go into the URL. */
  | 'upstream.config'
  /** The local mirror could not be created or updated. */
  | 'upstream.mirror';

export class UpstreamError extends Error {
  readonly code: UpstreamErrorCode;

  constructor(code: UpstreamErrorCode, message: string) {
    super(message);
    this.name = 'UpstreamError';
    this.code = code;
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}
