import type { IncomingMessage } from 'node:http';
import type { RouteResponse } from './respond.js';

export type Method = 'GET' | 'POST';

export interface RouteRequest {
  raw: IncomingMessage;
  /** The client's address (IPv4-mapped IPv6 shown as IPv4). */
  clientAddress: string;
}

export interface Route {
  method: Method;
  path: string;
  /** Counted against the per-address rate limit (health checks and scrapes are not). */
  limited: boolean;
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
