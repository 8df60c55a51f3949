export { PushgateMetrics, METRIC_PREFIX, SCAN_DURATION_BUCKETS, type MetricsOptions, type QueueEntryCounts } from './registry.js';
export { gatewayEventListener, sessionCommandLabel, authFailureReason } from './gateway.js';
export { countDecision, countDecisionLine, findingDecision, followDecisions, type FollowDecisionsOptions } from './decisions.js';
export { cachedQueueCounts, countQueueEntries, QUEUE_COUNT_TTL_MS, type QueueCountOptions } from './queue.js';
export { metricsRoute } from './route.js';
export { metricsReferenceMarkdown, METRICS_DOC_PATH } from './reference.js';
export { createServeMetrics, type ServeMetrics } from './service.js';
