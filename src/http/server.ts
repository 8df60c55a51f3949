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
import { apiRoutes } from './api.js';
import { HttpError } from './errors.js';
import { ClientAddressResolver, rateLimitKey, type ClientAddress } from './client-address.js';
import { RateLimiter, type RateDecision } from './rate-limit.js';
import { errorResponse, rateLimitedResponse, send, type RouteResponse } from './respond.js';
import { matchRoute, type RateBucket, type Route, type RouteRequest } from './routes.js';

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
  /**
   * Handlers that own every path under a prefix (`/console/`) and write
   * their own responses (HTML, redirects, event streams): the review console.
   */
  mounts?: Mount[];
  onResponse?: (event: ResponseEvent) => void;
  /** Sees every certificate issued or refused. */
  issuance?: IssuanceObserver;
  verifier?: VerifierOptions;
}

export interface Mount {
  /** Ends with `/`; the prefix without it is redirected to it. */
  prefix: string;
  handle(request: IncomingMessage, response: ServerResponse, client: ClientAddress): Promise<void>;
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
  let limiters: { key: string; authenticated: RateLimiter; unauthenticated: RateLimiter } | undefined;
  const rateLimiters = (): { authenticated: RateLimiter; unauthenticated: RateLimiter } => {
    const { requests, window, unauthenticated } = options.config().http.rateLimit;
    const key = `${requests}/${unauthenticated}/${window}`;
    if (limiters?.key !== key) {
      limiters = { key, authenticated: new RateLimiter({ requests, window }), unauthenticated: new RateLimiter({ requests: unauthenticated, window }) };
    }
    return limiters;
  };
  let resolver: { proxies: readonly string[]; resolver: ClientAddressResolver } | undefined;
  const clientOf = (request: IncomingMessage): ClientAddress => {
    const proxies = options.config().http.trustedProxies;
    if (resolver?.proxies !== proxies) resolver = { proxies, resolver: new ClientAddressResolver(proxies) };
    return resolver.resolver.resolve(request.socket.remoteAddress ?? '', request.headersDistinct['x-forwarded-for']);
  };

  const answer = async (request: IncomingMessage, client: ClientAddress): Promise<{ route: string; response: RouteResponse }> => {
    const path = new URL(request.url ?? '/', 'http://pushgate.invalid').pathname;
    const match = matchRoute(routes, request.method ?? '', path);
    if (match.route === undefined) {
      if (match.allowed.length === 0) return { route: 'other', response: errorResponse(404, 'not-found', `no such resource: ${path.slice(0, 200)}`) };
      return { route: path, response: errorResponse(405, 'method-not-allowed', `${path} accepts ${match.allowed.join(', ')}`, { allow: match.allowed.join(', ') }) };
    }
    const { route } = match;
    const key = rateLimitKey(client.address);
    const routeRequest: RouteRequest = {
      raw: request,
      clientAddress: client.address,
      ...(client.via !== undefined ? { via: client.via } : {}),
      charge: (bucket: RateBucket): RateDecision => rateLimiters()[bucket].take(key),
    };
    if (route.limited && route.chargesItself !== true) {
      const decision = routeRequest.charge!('unauthenticated');
      if (!decision.allowed) {
        if (decision.first) await route.rateLimited?.(routeRequest, decision.retryAfterSeconds);
        return { route: route.path, response: rateLimitedResponse(client.address, decision.retryAfterSeconds) };
      }
    }
    try {
      return { route: route.path, response: await route.handle(routeRequest) };
    } catch (error) {
      if (error instanceof HttpError) return { route: route.path, response: errorResponse(error.status, error.code, error.message, error.headers) };
      log.error('http request failed', { route: route.path, error: (error as Error).message });
      return { route: route.path, response: errorResponse(500, 'server.error', 'internal error; an administrator can see why in the operator log') };
    }
  };

  const mounted = (request: IncomingMessage, response: ServerResponse): boolean => {
    const path = new URL(request.url ?? '/', 'http://pushgate.invalid').pathname;
    const mount = options.mounts?.find((m) => path.startsWith(m.prefix) || path === m.prefix.slice(0, -1));
    if (mount === undefined) return false;
    const started = performance.now();
    const client = clientOf(request);
    mount.handle(request, response, client).then(() => {
      options.onResponse?.({ method: request.method ?? '', route: mount.prefix, status: response.statusCode, durationMs: performance.now() - started });
    }).catch((error: unknown) => {
      log.error('http response failed', { route: mount.prefix, error: (error as Error).message });
      if (!response.headersSent) send(response, errorResponse(500, 'server.error', 'internal error; an administrator can see why in the operator log'));
      else response.destroy();
    });
    return true;
  };

  const server = createServer({ maxHeaderSize: 32 * 1024, requestTimeout: 15_000, headersTimeout: 10_000 }, (request: IncomingMessage, response: ServerResponse) => {
    if (mounted(request, response)) return;
    const started = performance.now();
    answer(request, clientOf(request)).then(({ route, response: reply }) => {
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
