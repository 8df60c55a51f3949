/** The routes of the certificate API: issuance, the CA keys, health. */
import type { PushgateConfig } from '../config/index.js';
import { TokenError } from '../identity/token-error.js';
import { IssuanceError } from '../issuance/errors.js';
import type { CertificateService } from '../issuance/service.js';
import { trustedCaText } from '../issuance/trusted.js';
import { readJsonBody } from './body.js';
import { HttpError } from './errors.js';
import type { RouteResponse } from './respond.js';
import type { Route } from './routes.js';

/** One answer for every refused token: which check failed is for the audit log, not for the caller. */
export const TOKEN_REFUSED_MESSAGE = 'the bearer token was not accepted; obtain a fresh token from your identity provider (an administrator can see why in the audit log)';

const ISSUANCE_STATUS: Record<IssuanceError['code'], number> = {
  'request.public-key': 400,
  'request.ttl': 400,
  'request.body': 400,
  'issuance.disabled': 404,
  'issuance.failed': 500,
  'rate-limited': 429,
};

/** `Authorization: Bearer <token>` → the token; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

function refusal(error: unknown, clientAddress: string): unknown {
  if (error instanceof TokenError) {
    if (error.code === 'issuer.unavailable') return new HttpError(503, 'issuer.unavailable', 'the identity provider could not be reached to check the token; try again shortly', { 'retry-after': '5' });
    return new HttpError(401, 'token.invalid', TOKEN_REFUSED_MESSAGE, { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  if (error instanceof IssuanceError) {
    if (error.code === 'rate-limited') return new HttpError(429, 'rate-limited', `too many requests from ${clientAddress}; retry in ${error.rate?.retryAfterSeconds ?? 1}s`, { 'retry-after': String(error.rate?.retryAfterSeconds ?? 1) });
    const status = ISSUANCE_STATUS[error.code];
    return new HttpError(status, error.code, status === 500 ? 'the certificate could not be issued; an administrator can see why in the operator log' : error.message);
  }
  return error as Error;
}

/** Without an identity issuer there is no token to accept: the issuance routes answer as if absent, and say why. */
function requireIssuer(config: PushgateConfig): void {
  if (config.identity.issuers.length === 0) {
    throw new HttpError(404, 'issuance.disabled', 'this server issues no certificates: no identity issuer is configured (identity.issuers in the server config)');
  }
}

export function apiRoutes(config: () => PushgateConfig, service: CertificateService): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/certificates',
      limited: true,
      chargesItself: true,
      async handle(request): Promise<RouteResponse> {
        const via = request.via !== undefined ? { via: request.via } : {};
        if (config().identity.issuers.length === 0) {
          const admission = request.charge?.('unauthenticated');
          if (admission !== undefined && !admission.allowed) throw refusal(new IssuanceError('rate-limited', 'rate limited', admission), request.clientAddress);
          requireIssuer(config());
        }
        let body: unknown;
        try {
          body = await readJsonBody(request.raw);
        } catch (error) {
          // An unreadable body is counted as unauthenticated: the token was never looked at.
          const admission = request.charge?.('unauthenticated');
          if (admission !== undefined && !admission.allowed) {
            if (admission.first) await service.recordRefusal('rate-limited', `more than the allowed requests without a valid token per window; further ones refused for ${admission.retryAfterSeconds}s`, request.clientAddress, request.via);
            throw refusal(new IssuanceError('rate-limited', 'rate limited', admission), request.clientAddress);
          }
          if (error instanceof HttpError) await service.recordRefusal(error.code, error.message, request.clientAddress, request.via);
          throw error;
        }
        try {
          const issued = await service.issue({
            token: bearerToken(request.raw.headers.authorization), body, clientAddress: request.clientAddress, ...via,
            ...(request.charge !== undefined ? { charge: request.charge } : {}),
          });
          return { status: 200, json: issued };
        } catch (error) {
          throw refusal(error, request.clientAddress);
        }
      },
    },
    {
      method: 'GET',
      path: '/v1/ca',
      limited: true,
      handle: (): RouteResponse => {
        requireIssuer(config());
        return { status: 200, text: trustedCaText(config()) };
      },
    },
    {
      method: 'GET',
      path: '/healthz',
      limited: false,
      handle: (): RouteResponse => ({ status: 200, json: { status: 'ok' } }),
    },
  ];
}
