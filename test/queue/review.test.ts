import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  approveEntry, expireAll, expireEntry, isQueueError, readAllRecords, readRecord, rejectEntry, sweepStores, waitForDecision,
} from '../../src/queue/index.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { AGENT, entryRepo, gitIn, recordRepo, refValue, workflowCommit } from './helpers.js';
import { alice, bob, carol, configOf, testContext } from './context.js';

const server = testServer(t);
const remote = server.createRepo('team/lib');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

function park(args: string[] = ['origin', 'main'], env: NodeJS.ProcessEnv = AGENT): string {
  const pushed = work.push(args, env);
  if (pushed.result?.decision !== 'park') throw new Error(pushed.output);
  return pushed.result.queueId as string;
}

function resync(): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('checkout', '--quiet', '-B', 'main', 'origin/main');
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isQueueError(error)) return error.code;
    throw error;
  }
  return 'resolved';
}

t.test('concurrent approvals in one process: one applies, the others find it decided (10 rounds)', async (t) => {
  const config = configOf(server.configPath);
  for (let round = 0; round < 10; round++) {
    resync();
    const tip = workflowCommit(work, `inproc-${round}`);
    const id = park();
    const { ctx, audited, notified } = testContext(config);
    const results = await Promise.allSettled([alice, bob, carol].map((who) => approveEntry({ gitDir: remote, id }, who, undefined, ctx)));
    const applied = results.filter((r) => r.status === 'fulfilled' && r.value.applied);
    const decided = results.filter((r) => r.status === 'rejected' && isQueueError(r.reason) && r.reason.code === 'queue.decided');
    t.equal(applied.length, 1, `round ${round}: applied once`);
    t.equal(decided.length, 2, 'the others are told it is decided');
    t.equal(refValue(remote, 'refs/heads/main'), tip);
    t.equal(audited.filter((e) => e.type === 'queue.apply').length, 1);
    t.equal(notified.filter((e) => e.event === 'approve').length, 1);
  }
  resync();
});

t.test('two approvals required: concurrent approvals from different people both count', async (t) => {
  const config = configOf(server.configPath);
  config.queue.approvals = 2;
  const tip = workflowCommit(work, 'two-inproc');
  const id = park();
  const { ctx } = testContext(config);
  const [a, b] = await Promise.all([approveEntry({ gitDir: remote, id }, alice, 'ok', ctx), approveEntry({ gitDir: remote, id }, bob, undefined, ctx)]);
  t.same([a.applied, b.applied].sort(), [false, true]);
  t.equal(refValue(remote, 'refs/heads/main'), tip);
  const stored = await readRecord(remote, id);
  t.same(stored?.record.approvals.map((x) => x.by.principal).sort(), ['alice', 'bob']);
  resync();
});

t.test('refs that cannot be updated leave the entry approved; approving again applies it', async (t) => {
  const config = configOf(server.configPath);
  work.git('checkout', '--quiet', '-B', 'df', 'origin/main');
  const tip = workflowCommit(work, 'df');
  const id = park(['origin', 'df']);
  // refs/heads/df/sub makes refs/heads/df impossible to create (a directory/file conflict), without moving it.
  gitIn(remote, 'update-ref', 'refs/heads/df/sub', refValue(remote, 'refs/heads/main')!);
  const { ctx } = testContext(config);
  t.equal(await refusal(approveEntry({ gitDir: remote, id }, alice, undefined, ctx)), 'queue.failed');
  t.equal((await readRecord(remote, id))?.record.state, 'approved', 'the approval is kept');
  t.equal(await refusal(approveEntry({ gitDir: remote, id }, { principal: 'agent:bot', roles: ['reviewer'] }, undefined, ctx)), 'queue.four-eyes', 'even a retry is not the pusher\'s');
  gitIn(remote, 'update-ref', '-d', 'refs/heads/df/sub');
  const retried = await approveEntry({ gitDir: remote, id }, bob, undefined, ctx);
  t.ok(retried.applied);
  t.equal(retried.approvals, 1, 'a retry adds no approval');
  t.equal(refValue(remote, 'refs/heads/df'), tip);
  resync();
});

t.test('a locked ref: the approve retries, then reports the entry busy', async (t) => {
  const config = configOf(server.configPath);
  workflowCommit(work, 'locked');
  const id = park();
  const lock = join(remote, 'refs', 'heads', 'main.lock');
  writeFileSync(lock, '');
  const { ctx } = testContext(config);
  t.equal(await refusal(approveEntry({ gitDir: remote, id }, alice, undefined, ctx)), 'queue.busy');
  rmSync(lock);
  t.equal((await readRecord(remote, id))?.record.state, 'pending');
  t.ok((await approveEntry({ gitDir: remote, id }, alice, undefined, ctx)).applied, 'applies once the lock is gone');
  resync();
});

t.test('expiry through the clock: approve refuses and records it, expireAll and wait agree', async (t) => {
  const config = configOf(server.configPath);
  workflowCommit(work, 'clock-a');
  const a = park();
  resync();
  workflowCommit(work, 'clock-b');
  const b = park();
  resync();
  const { ctx, shift, audited, notified } = testContext(config);
  shift(8 * 86400_000);
  t.equal(await refusal(approveEntry({ gitDir: remote, id: a }, alice, undefined, ctx)), 'queue.expired');
  t.equal((await readRecord(remote, a))?.record.state, 'expired', 'the refused approval recorded the expiry');
  t.equal(await refusal(rejectEntry({ gitDir: remote, id: b }, alice, 'late', ctx)), 'queue.expired');
  const waited = await waitForDecision(remote, b, { timeout: 1000, now: ctx.now });
  t.match(waited, { outcome: 'decided', state: 'expired' });
  const report = await expireAll(server.reposRoot, undefined, ctx);
  t.same(report.expired.map((r) => r.id), [b]);
  t.notOk(existsSync(entryRepo(remote, b)), 'the expired entry\'s objects are deleted');
  t.equal(await expireEntry({ gitDir: remote, id: b }, undefined, ctx), null, 'expiring twice does nothing');
  t.ok(audited.some((e) => e.type === 'queue.expire' && e.queueId === b));
  t.ok(notified.some((e) => e.event === 'expire' && e.id === a));
});

t.test('wait: times out while pending, returns when decided', async (t) => {
  const config = configOf(server.configPath);
  workflowCommit(work, 'wait');
  const id = park();
  const timedOut = await waitForDecision(remote, id, { timeout: 120, interval: 20 });
  t.match(timedOut, { outcome: 'timeout', state: 'pending' });
  const { ctx } = testContext(config);
  const waiting = waitForDecision(remote, id, { timeout: 0, interval: 20 });
  await rejectEntry({ gitDir: remote, id }, alice, 'not now', ctx);
  t.match(await waiting, { outcome: 'decided', state: 'rejected' });
  await t.rejects(waitForDecision(remote, 'zzzzzzzz', { timeout: 10 }), { code: 'queue.not-found' });
  resync();
});

t.test('refusals: roles, empty reasons, unknown entries; a failing audit only warns', async (t) => {
  const config = configOf(server.configPath);
  workflowCommit(work, 'refusals');
  const id = park();
  const watched = testContext(config);
  t.equal(await refusal(approveEntry({ gitDir: remote, id }, { principal: 'agent:bot', roles: ['reviewer'] }, undefined, watched.ctx)), 'queue.four-eyes');
  t.match(watched.audited, [{ type: 'queue.approve', queueId: id, result: 'refused', code: 'queue.four-eyes', reviewer: { principal: 'agent:bot' } }], 'a refused approval is audited');
  const { ctx, warnings } = testContext(config, { failAudit: true });
  t.equal(await refusal(approveEntry({ gitDir: remote, id }, { principal: 'eve', roles: [] }, undefined, ctx)), 'queue.not-reviewer');
  t.equal(await refusal(rejectEntry({ gitDir: remote, id }, alice, '  ', ctx)), 'queue.invalid');
  t.equal(await refusal(approveEntry({ gitDir: remote, id: 'zzzzzzzz' }, alice, undefined, ctx)), 'queue.not-found');
  const rejected = await rejectEntry({ gitDir: remote, id }, alice, 'no', ctx);
  t.equal(rejected.state, 'rejected');
  t.ok(warnings.some((w) => /could not write the audit record for queue\.reject/.test(w)), 'the transition stands; the missing record is reported');
  resync();
});

t.test('no post-receive hook: applied all the same, and recorded as such', async (t) => {
  const config = configOf(server.configPath);
  const shim = join(remote, 'hooks', 'post-receive');
  rmSync(shim);
  workflowCommit(work, 'nohook');
  const id = park();
  const { ctx } = testContext(config);
  const result = await approveEntry({ gitDir: remote, id }, alice, undefined, ctx);
  t.equal(result.postReceive, null);
  t.match((await readRecord(remote, id))?.record, { postReceive: { state: 'ran' }, events: [{}, {}, {}, { type: 'post-receive', detail: 'no post-receive hook' }] });
  resync();
});

t.test('the sweep keeps the stores of open entries, deletes those of decided entries and old orphans', async (t) => {
  const config = configOf(server.configPath);
  workflowCommit(work, 'sweep-open');
  const open = park();
  resync();
  workflowCommit(work, 'sweep-decided');
  const decided = park();
  resync();
  // A rejection cut off after recording, before deleting: the store is left behind.
  const { ctx } = testContext(config);
  await rejectEntry({ gitDir: remote, id: decided }, alice, 'no', ctx);
  mkdirSync(join(entryRepo(remote, decided), 'objects'), { recursive: true });
  writeFileSync(join(entryRepo(remote, decided), 'HEAD'), 'ref: refs/heads/main\n');
  const orphan = entryRepo(remote, 'zzzzzzzz');
  mkdirSync(join(orphan, 'objects'), { recursive: true });
  writeFileSync(join(orphan, 'HEAD'), 'ref: refs/heads/main\n');
  gitIn(recordRepo(remote), 'pack-refs', '--all');
  const soon = await sweepStores(remote, new Date(Date.now() + 60_000));
  t.same(soon, [decided], 'a young orphan is left alone (its park may be publishing); the decided one goes');
  const old = new Date(Date.now() - 2 * 3600_000);
  utimesSync(orphan, old, old);
  t.same(await sweepStores(remote, new Date(Date.now() + 86400_000)), ['zzzzzzzz'], 'an old orphan goes; the open entry stays, even with packed records');
  t.ok(existsSync(entryRepo(remote, open)));
  const { records } = await readAllRecords(remote);
  t.ok(records.some((r) => r.record.id === open), 'packed records are listed');
  resync();
});
