/**
 * Upstream mode: pushgate in front of an existing Git server. Mirrors of
 * upstream repositories (create, refresh), forwarding ref updates with
 * compare-and-swap, and the credential environment of the only processes
 * that talk to the upstream.
 */
export { UpstreamError, isUpstreamError, type UpstreamErrorCode } from './errors.js';
export { upstreamFor, upstreamNamed, type UpstreamTarget } from './match.js';
export { upstreamEnv } from './credentials.js';
export { maskUrls, redactLine, redactBlock } from './redact.js';
export { isMirror } from './marker.js';
export { ensureMirror, refreshMirror, beginPush, mirrorAge, lastFetched, markStale, mirrorPath, type MirrorOptions, type RefreshResult } from './mirror.js';
export { forwardUpdates, parsePorcelain, type ForwardUpdate, type ForwardResult, type ForwardOutcome, type RefStatus } from './forward.js';
export { forwardAuditEvent, refreshFailureEvent, observeRefreshes, reportRefresh, type RefreshObservation } from './events.js';
export { prepareSession, type SessionPreparation, type PrepareOptions } from './session.js';
export { upstreamQueueForwarder } from './queue.js';
export { checkUpstream, type CheckStep, type CheckOptions } from './check.js';
