import type { IncomingMessage } from 'node:http';
import type { RateDecision } from './rate-limit.js';
import type { RouteResponse } from './respond.js';

export type Method = 'GET' | 'POST';

/** Which budget a request is counted against: a verified token's, or everyone else's. */
export type RateBucket = 'authenticated' | 'unauthenticated';

export interface RouteRequest {
  raw: IncomingMessage;
  /**
   * The client's address (IPv4-mapped IPv6 shown as IPv4): the socket's
   * peer, or behind a trusted proxy the right-most untrusted X-Forwarded-For hop.
   */
  clientAddress: string;
  /** The trusted proxy the request came through, when it did. */
  via?: string;
  /** Counts this request against the client's budget in `bucket` (routes that charge themselves). */
  charge?(bucket: RateBucket): RateDecision;
}

export interface Route {
  method: Method;
  path: string;
  /**
   * Counted against the per-address rate limit (health checks and scrapes
   * are not): by default in the unauthenticated bucket, before the handler runs.
   */
  limited: boolean;
  /**
   * The handler counts the request itself through `request.charge`, once it
   * knows whether the caller authenticated: a flood of bad tokens then
   * spends the unauthenticated budget only, never that of valid tokens.
   */
  chargesItself?: boolean;
  handle(request: RouteRequest): Promise<RouteResponse> | RouteResponse;
  /** Called on the first request of an address refused by the rate limit in a window. */
  rateLimited?(request: RouteRequest, retryAfterSeconds: number): Promise<void>;
}

export type Match = { route: Route } | { route: undefined; allowed: Method[] };

/** Exact paths only; a known path with another method is a 405 with `Allow`. */
export function matchRoute(routes: readonly Route[], method: string, path: string): Match {
  const forPath = routes.filter((r) => r.path === path);
  const route = forPath.find((r) => r.method === method);
  if (route !== undefined) return { route };
  return { route: undefined, allowed: forPath.map((r) => r.method) };
}
