/**
 * Moves queue entries of the old layout (records and pending refs inside
 * the repository, under refs/pushgate/) to the current one (beside it, see
 * layout.ts): `pushgate queue migrate`, run by an administrator once after
 * upgrading. Text in old records was not always masked: it is masked on the
 * way. Deleting the refs makes the old parked objects unreachable, but they
 * stay in the repository's object store (where protocol v2 still serves
 * them by id) until they are pruned: with `prune`, `git repack -a -d` and
 * `git prune --expire=now` run at the end, which must not race a push
 * (stop the gateway, or run it when nobody pushes).
 */
import { copyObjects, listRefs, runGitOrThrow, updateRefs, type RefUpdate } from '../git/index.js';
import { maskText } from '../text/index.js';
import { createEntryStore, entryStore, objectFormatOf, removeEntryStore } from './layout.js';
import { idOfPendingRef, NAMESPACE, QUEUE_PREFIX } from './names.js';
import { FINAL_STATES, type QueueRecord } from './record.js';
import { findRepositories, mayHoldRef } from './repos.js';
import { commitTransition, readRecord } from './store.js';

export interface MigrateReport {
  repositories: { name: string; moved: string[]; problems: string[]; pruned: boolean }[];
}

function maskRecord(record: QueueRecord): QueueRecord {
  const m = (text: string | undefined): string | undefined => (text === undefined ? undefined : maskText(text));
  return {
    ...record,
    pushOptions: record.pushOptions.map((o) => maskText(o)),
    ...(record.reason === undefined ? {} : { reason: maskText(record.reason) }),
    commits: record.commits.map((c) => ({ ...c, author: maskText(c.author), subject: maskText(c.subject) })),
    approvals: record.approvals.map((a) => ({ ...a, ...(a.comment === undefined ? {} : { comment: m(a.comment)! }) })),
    events: record.events.map((e) => ({ ...e, ...(e.comment === undefined ? {} : { comment: m(e.comment)! }), ...(e.detail === undefined ? {} : { detail: m(e.detail)! }) })),
  };
}

export async function migrateLegacy(root: string, options: { prune: boolean }): Promise<MigrateReport> {
  const report: MigrateReport = { repositories: [] };
  for (const repo of findRepositories(root).filter((r) => mayHoldRef(r.gitDir, NAMESPACE))) {
    const refs = await listRefs(repo.gitDir, [NAMESPACE]);
    if (refs.size === 0) continue;
    const done = { name: repo.name, moved: [] as string[], problems: [] as string[], pruned: false };
    report.repositories.push(done);
    const pendingById = new Map<string, RefUpdate[]>();
    for (const [ref, oid] of refs) {
      const id = idOfPendingRef(ref);
      if (id !== undefined) pendingById.set(id, [...(pendingById.get(id) ?? []), { ref, newOid: oid }]);
    }
    for (const [ref, oid] of refs) {
      if (!ref.startsWith(QUEUE_PREFIX)) continue;
      const id = ref.slice(QUEUE_PREFIX.length);
      const pending = pendingById.get(id) ?? [];
      pendingById.delete(id);
      try {
        const stored = await readRecord(repo.gitDir, id);
        if (stored === null) throw new Error('the record disappeared');
        const record = maskRecord(stored.record);
        if (stored.legacy === true) {
          const open = !FINAL_STATES.has(record.state);
          if (open && pending.length > 0) {
            const store = await createEntryStore(repo.gitDir, id, objectFormatOf(pending[0]!.newOid)) ?? entryStore(repo.gitDir, id);
            await copyObjects({ source: repo.gitDir, target: store, tips: pending.map((p) => p.newOid), excludeRefsOf: { gitDir: repo.gitDir, skipPrefix: NAMESPACE } });
            const created = await updateRefs(store, pending.map((p) => ({ ref: p.ref, newOid: p.newOid })));
            if (!created.ok) throw new Error(`its pending refs could not be created: ${created.message}`);
          }
          const written = await commitTransition(repo.gitDir, null, record, `migrate ${id}: moved out of the repository`);
          if (!written.ok) {
            if (open) await removeEntryStore(repo.gitDir, id).catch(() => undefined);
            throw new Error(`its record could not be written: ${written.message}`);
          }
        }
        const deleted = await updateRefs(repo.gitDir, [{ ref, newOid: '0'.repeat(oid.length), oldOid: oid }, ...pending.map((p) => ({ ref: p.ref, newOid: '0'.repeat(p.newOid.length), oldOid: p.newOid }))]);
        if (!deleted.ok) throw new Error(`its old refs could not be deleted: ${deleted.message}`);
        done.moved.push(id);
      } catch (error) {
        done.problems.push(`${id}: ${(error as Error).message}`);
      }
    }
    // Pending refs without a record (an old park cut off half-way): nothing to keep.
    const orphans = [...pendingById.values()].flat();
    if (orphans.length > 0) {
      const deleted = await updateRefs(repo.gitDir, orphans.map((p) => ({ ref: p.ref, newOid: '0'.repeat(p.newOid.length), oldOid: p.newOid })));
      if (!deleted.ok) done.problems.push(`pending refs without a record could not be deleted: ${deleted.message}`);
    }
    if (options.prune && done.problems.length === 0) {
      await runGitOrThrow(['repack', '-a', '-d', '-q'], { gitDir: repo.gitDir });
      await runGitOrThrow(['prune', '--expire=now'], { gitDir: repo.gitDir });
      done.pruned = true;
    }
  }
  return report;
}
