export { QueueError, isQueueError, type QueueErrorCode } from './errors.js';
export { newQueueId, normalizeQueueId, queueIdProblem, ID_ALPHABET, ID_LENGTH } from './id.js';
export { queueRef, pendingRef, pendingPrefix, QUEUE_PREFIX, PENDING_PREFIX, NAMESPACE } from './names.js';
export { QUEUE_DIR, recordStore, entryStore, parkedRoot, storeExists, listEntryStores } from './layout.js';
export {
  effectiveState, FINAL_STATES, QUEUE_STATES, isQueueState,
  type QueueRecord, type QueueState, type QueuedUpdate, type Approval, type QueueEvent, type DiffStats, type CommitSummary, type QueueIdentity, type ApplyClaim,
} from './record.js';
export { readRecord, readAllRecords, type StoredRecord } from './store.js';
export { parkPush, type ParkInput } from './park.js';
export { parkForReview, waitCommand, PARK_FAILED_RULE, type HookParkInput, type HookParkResult } from './hook.js';
export { requirementsFor, checkReviewer, checkApprover, samePerson, type Requirements } from './rules.js';
export { approveEntry, rejectEntry, expireEntry, liveClaim, type ApproveResult } from './review.js';
export { expireAll, sweepStores, ORPHAN_GRACE_MS, type ExpireReport } from './expire.js';
export { waitForDecision, recordOid, WaitHub, type WaitOptions, type WaitResult } from './wait.js';
export { findRepositories, locateEntry, entryCandidates, entryNotFound, repositoriesWithQueue, type Repository } from './repos.js';
export { fetchHints, entryRefspec, entryRepositoryPath, parseEntryPath, remoteFetchCommand, localFetchCommand, ENTRY_PATH_MARKER, type FetchHint } from './fetch.js';
export { maySeeEntry, mayFetchEntry, mayExpire, isEntryReviewer, findVisibleEntry, type Viewer, type VisibleEntry } from './visibility.js';
export { withoutServerPaths } from './paths.js';
export { migrateLegacy, type MigrateReport } from './migrate.js';
export { deliver, notifyDetached, notifyEvent, signBody, chatMessage, consoleEntryUrl, SIGNATURE_HEADER, type NotifyEvent, type NotifyConfig, type DeliveryResult } from './notify.js';
export { runPostReceive, postReceiveEnv } from './post-receive.js';
export type { QueueContext, EntryRef, UpstreamForwarder, UpstreamLink } from './context.js';
