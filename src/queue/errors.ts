/**
 * Every refusal and failure of the queue has a stable code. `refused` ones
 * are the caller's to fix (wrong role, four-eyes, already decided); the
 * others mean the queue could not do its work.
 */
export type QueueErrorCode =
  | 'queue.not-found'
  | 'queue.ambiguous'
  | 'queue.not-reviewer'
  | 'queue.four-eyes'
  | 'queue.already-approved'
  | 'queue.decided'
  | 'queue.expired'
  | 'queue.stale'
  | 'queue.invalid'
  | 'queue.busy'
  | 'queue.legacy'
  | 'queue.limit'
  | 'queue.failed'
  /** The upstream refused the approved push or could not be reached; the entry stays pending. */
  | 'queue.upstream';

const REFUSALS: ReadonlySet<QueueErrorCode> = new Set([
  'queue.not-found', 'queue.ambiguous', 'queue.not-reviewer', 'queue.four-eyes',
  'queue.already-approved', 'queue.decided', 'queue.expired', 'queue.stale', 'queue.invalid', 'queue.legacy', 'queue.limit', 'queue.upstream',
]);

export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueueError';
  }

  /** The caller asked for something the rules do not allow, as opposed to the queue failing. */
  get refused(): boolean {
    return REFUSALS.has(this.code);
  }
}

export function isQueueError(value: unknown): value is QueueError {
  return value instanceof QueueError;
}
