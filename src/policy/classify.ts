import { isZeroOid } from '../git/oid.js';
import type { ClassifiedUpdate, RefUpdate, UpdateKind } from './types.js';

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
// git's own check refuses ASCII controls and spaces; other characters reach the ref checks, which name the problem.
// eslint-disable-next-line no-control-regex
const REF = /^refs\/[^\x00-\x20\x7f]+$/;
/** What bytes that are not UTF-8 became when the input was read: the hook could not name that ref faithfully. */
const NOT_UTF8 = '\uFFFD';

/**
 * Parses pre-receive input. Garbage is an error, never skipped: the hook must
 * not allow a push whose updates it could not read.
 */
export function parseRefUpdates(input: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  const lines = input.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const parts = line.split(' ');
    const [oldOid, newOid, ref] = parts;
    if (parts.length !== 3 || !OID.test(oldOid!) || !OID.test(newOid!) || !REF.test(ref!)) {
      throw new Error(`line ${i + 1} of the ref updates is not "<old-oid> <new-oid> <ref>": ${JSON.stringify(line.slice(0, 120))}`);
    }
    if (ref!.includes(NOT_UTF8)) throw new Error(`line ${i + 1} of the ref updates names a ref that is not valid UTF-8: ${JSON.stringify(ref!.slice(0, 120))}`);
    updates.push({ oldOid: oldOid!, newOid: newOid!, ref: ref! });
  });
  if (updates.length === 0) throw new Error('no ref updates on standard input');
  return updates;
}

/** Pure classification given whether `old` is an ancestor of `new`. */
export function classifyUpdate(update: RefUpdate, oldIsAncestor: boolean): ClassifiedUpdate {
  let kind: UpdateKind;
  if (isZeroOid(update.oldOid)) kind = 'create';
  else if (isZeroOid(update.newOid)) kind = 'delete';
  else kind = oldIsAncestor ? 'fast-forward' : 'non-fast-forward';
  return { ...update, kind, isTag: update.ref.startsWith('refs/tags/') };
}

/** Classifies every update, asking git only where it matters (both sides present). */
export async function classifyUpdates(
  updates: readonly RefUpdate[],
  isAncestor: (ancestor: string, descendant: string) => Promise<boolean>,
): Promise<ClassifiedUpdate[]> {
  return Promise.all(updates.map(async (u) => {
    const both = !isZeroOid(u.oldOid) && !isZeroOid(u.newOid);
    return classifyUpdate(u, both ? await isAncestor(u.oldOid, u.newOid) : false);
  }));
}
