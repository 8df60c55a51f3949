import type { ServerResponse } from 'node:http';

/** What a route answers: a status, a body (JSON value or text) and headers. */
export interface RouteResponse {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Readonly<Record<string, string>>;
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function send(response: ServerResponse, answer: RouteResponse): void {
  const body = answer.text ?? `${JSON.stringify(answer.json ?? null)}\n`;
  const type = answer.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json';
  response.writeHead(answer.status, {
    ...BASE_HEADERS,
    'content-type': type,
    'content-length': String(Buffer.byteLength(body)),
    ...answer.headers,
  });
  response.end(body);
}

export function errorResponse(status: number, code: string, message: string, headers: Readonly<Record<string, string>> = {}): RouteResponse {
  return { status, json: { error: { code, message } }, headers };
}

/** 429 with Retry-After; the address is the one the server counted (the caller's, seen through trusted proxies). */
export function rateLimitedResponse(clientAddress: string, retryAfterSeconds: number): RouteResponse {
  return errorResponse(429, 'rate-limited', `too many requests from ${clientAddress}; retry in ${retryAfterSeconds}s`, { 'retry-after': String(retryAfterSeconds) });
}
