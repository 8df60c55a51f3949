export { startHttpService, hostPort, HttpServiceError, type HttpLog, type HttpService, type HttpServiceOptions, type ResponseEvent } from './server.js';
export { apiRoutes, bearerToken, TOKEN_REFUSED_MESSAGE } from './api.js';
export { HttpError } from './errors.js';
export { RateLimiter, type RateDecision, type RateLimitOptions } from './rate-limit.js';
export { readJsonBody, MAX_BODY_BYTES } from './body.js';
export { send, errorResponse, type RouteResponse } from './respond.js';
export { matchRoute, type Method, type Route, type RouteRequest } from './routes.js';
