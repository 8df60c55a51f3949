/**
 * pushgate's HTTP service on node:http: a fixed route table, a per-address
 * rate limit, JSON errors `{ error: { code, message } }`. Other routes (such
 * as GET /metrics) are passed in as `routes`; `onResponse` sees every answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditSink } from '../audit/index.js';
import type { ListenAddress, PushgateConfig } from '../config/index.js';
import type { VerifierOptions } from '../identity/oidc-verify.js';
import { CertificateService, type IssuanceObserver } from '../issuance/service.js';
import { normalizeAddress } from '../sshcert/index.js';
import { apiRoutes } from './api.js';
import { HttpError } from './errors.js';
import { RateLimiter } from './rate-limit.js';
import { errorResponse, send, type RouteResponse } from './respond.js';
import { matchRoute, type Route } from './routes.js';

export interface HttpLog {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface ResponseEvent {
  method: string;
  /** The route's path, or `other` for unknown paths (bounded label set). */
  route: string;
  status: number;
  durationMs: number;
}

export interface HttpServiceOptions {
  /** The current config, read on every request so a reload takes effect. */
  config: () => PushgateConfig;
  audit: AuditSink;
  log?: HttpLog;
  /** Overrides `http.listen`. */
  listen?: ListenAddress;
  /** Served next to the built-in routes. */
  routes?: Route[];
  onResponse?: (event: ResponseEvent) => void;
  /** Sees every certificate issued or refused. */
  issuance?: IssuanceObserver;
  verifier?: VerifierOptions;
}

export interface HttpService {
  address: AddressInfo;
  /** `http://HOST:PORT`. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

const silent: HttpLog = { error() {}, warn() {} };

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class HttpServiceError extends Error {
  override name = 'HttpServiceError';
}

/** Starts listening (port 0 picks a free port) and resolves once bound. */
export async function startHttpService(options: HttpServiceOptions): Promise<HttpService> {
  const log = options.log ?? silent;
  const service = new CertificateService({
    config: options.config,
    audit: options.audit,
    ...(options.verifier !== undefined ? { verifier: options.verifier } : {}),
    ...(options.issuance !== undefined ? { observer: options.issuance } : {}),
    onAuditError: (error) => log.error('audit record failed', { error: (error as Error).message }),
  });
  const routes = [...apiRoutes(options.config, service), ...(options.routes ?? [])];
  let limiter: { key: string; limiter: RateLimiter } | undefined;
  const rateLimiter = (): RateLimiter => {
    const { requests, window } = options.config().http.rateLimit;
    const key = `${requests}/${window}`;
    if (limiter?.key !== key) limiter = { key, limiter: new RateLimiter({ requests, window }) };
    return limiter.limiter;
  };

  const answer = async (request: IncomingMessage, clientAddress: string): Promise<{ route: string; response: RouteResponse }> => {
    const path = new URL(request.url ?? '/', 'http://pushgate.invalid').pathname;
    const match = matchRoute(routes, request.method ?? '', path);
    if (match.route === undefined) {
      if (match.allowed.length === 0) return { route: 'other', response: errorResponse(404, 'not-found', `no such resource: ${path.slice(0, 200)}`) };
      return { route: path, response: errorResponse(405, 'method-not-allowed', `${path} accepts ${match.allowed.join(', ')}`, { allow: match.allowed.join(', ') }) };
    }
    const { route } = match;
    if (route.limited) {
      const decision = rateLimiter().take(clientAddress);
      if (!decision.allowed) {
        if (decision.first) await route.rateLimited?.({ raw: request, clientAddress }, decision.retryAfterSeconds);
        return { route: route.path, response: errorResponse(429, 'rate-limited', `too many requests from ${clientAddress}; retry in ${decision.retryAfterSeconds}s`, { 'retry-after': String(decision.retryAfterSeconds) }) };
      }
    }
    try {
      return { route: route.path, response: await route.handle({ raw: request, clientAddress }) };
    } catch (error) {
      if (error instanceof HttpError) return { route: route.path, response: errorResponse(error.status, error.code, error.message, error.headers) };
      log.error('http request failed', { route: route.path, error: (error as Error).message });
      return { route: route.path, response: errorResponse(500, 'server.error', 'internal error; an administrator can see why in the operator log') };
    }
  };

  const server = createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 15_000, headersTimeout: 10_000 }, (request: IncomingMessage, response: ServerResponse) => {
    const started = performance.now();
    const clientAddress = normalizeAddress(request.socket.remoteAddress ?? '');
    answer(request, clientAddress).then(({ route, response: reply }) => {
      if (!response.headersSent && !response.destroyed) send(response, reply);
      options.onResponse?.({ method: request.method ?? '', route, status: reply.status, durationMs: performance.now() - started });
    }).catch((error: unknown) => {
      log.error('http response failed', { error: (error as Error).message });
      response.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.maxConnections = 1024;

  const { host, port } = options.listen ?? options.config().http.listen;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new HttpServiceError(`cannot listen on ${hostPort(host, port)}: ${error.message}`));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      server.on('error', (error) => log.error('http listener error', { error: error.message }));
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    address,
    url: `http://${hostPort(address.address, address.port)}`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
