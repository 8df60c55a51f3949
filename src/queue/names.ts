/**
 * The queue's namespace in a repository (hidden from advertisements and
 * closed to pushes):
 *
 *   refs/pushgate/queue/<id>                the record: a commit whose tree holds
 *                                           record.json; its history is the transitions
 *   refs/pushgate/pending/<id>/<ref>        one per pushed tip, named after the target
 *                                           ref without "refs/" (…/<id>/heads/main);
 *                                           keeps the parked objects alive and fetchable
 */
export const NAMESPACE = 'refs/pushgate/';
export const QUEUE_PREFIX = 'refs/pushgate/queue/';
export const PENDING_PREFIX = 'refs/pushgate/pending/';

export function queueRef(id: string): string {
  return `${QUEUE_PREFIX}${id}`;
}

export function pendingPrefix(id: string): string {
  return `${PENDING_PREFIX}${id}/`;
}

/** refs/heads/main → refs/pushgate/pending/<id>/heads/main */
export function pendingRef(id: string, ref: string): string {
  return pendingPrefix(id) + ref.replace(/^refs\//, '');
}

/** The queue id a pending ref belongs to, or undefined for any other ref. */
export function idOfPendingRef(ref: string): string | undefined {
  if (!ref.startsWith(PENDING_PREFIX)) return undefined;
  const rest = ref.slice(PENDING_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? rest.slice(0, slash) : undefined;
}
