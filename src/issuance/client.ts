/** Asks a pushgate server for a certificate: `POST /v1/certificates`. */
import type { CertificateResponse } from './service.js';

export class CertificateRequestError extends Error {
  override name = 'CertificateRequestError';

  constructor(
    /** The server's error code, or `server.unreachable` / `server.response`. */
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export function certificatesUrl(server: string): URL {
  return new URL('v1/certificates', server.endsWith('/') ? server : `${server}/`);
}

export async function requestCertificate(server: string, token: string, publicKey: string, ttl?: string, timeoutMs = 30_000): Promise<CertificateResponse> {
  const url = certificatesUrl(server);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, accept: 'application/json' },
      body: JSON.stringify({ publicKey, ...(ttl !== undefined ? { ttl } : {}) }),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new CertificateRequestError('server.unreachable', `cannot reach ${url.href}: ${(error as Error).message}${cause !== undefined ? ` (${cause})` : ''}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new CertificateRequestError('server.response', `${url.href} answered HTTP ${response.status} without JSON: is ${server} a pushgate server?`, response.status);
  }
  if (!response.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new CertificateRequestError(
      typeof error?.code === 'string' ? error.code : 'server.response',
      typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`,
      response.status,
    );
  }
  const issued = body as Partial<CertificateResponse>;
  if (typeof issued.certificate !== 'string' || typeof issued.principal !== 'string' || typeof issued.validBefore !== 'string') {
    throw new CertificateRequestError('server.response', `${url.href} answered without a certificate`, response.status);
  }
  return issued as CertificateResponse;
}
