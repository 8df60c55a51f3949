import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { readRecord } from '../../src/queue/index.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { randomInt, seededRandom } from '../helpers/prng.js';
import { existsSync } from 'node:fs';
import { AGENT, ALICE, entryRepo, installMarkerHook, queue, queueAsync, refValue, workflowCommit } from './helpers.js';

const RUNS = Number(process.env.PUSHGATE_CRASH_RUNS ?? 25);
const random = seededRandom(Number(process.env.PUSHGATE_CRASH_SEED ?? 7));

const server = testServer(t);
const remote = server.createRepo('team/apply');
spawnSync('git', ['--git-dir', remote, 'config', 'gc.auto', '0']);
installMarkerHook(remote);
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

/** A parked push of three refs: main moves, a branch and a tag are created. */
function parkThree(run: number): { id: string; refs: string[]; before: (string | null)[]; after: string[] } {
  work.git('fetch', '--quiet', 'origin');
  work.git('checkout', '--quiet', '-B', 'main', 'origin/main');
  const tip = workflowCommit(work, `apply-${run}`);
  const refs = ['refs/heads/main', `refs/heads/k/${run}`, `refs/tags/k-${run}`];
  const before = refs.map((ref) => refValue(remote, ref));
  const pushed = work.push(['origin', 'main', `HEAD:${refs[1]}`, `HEAD:${refs[2]}`], AGENT);
  const id = pushed.result?.queueId as string;
  if (!id) throw new Error(`did not park: ${pushed.output}`);
  return { id, refs, before, after: refs.map(() => tip) };
}

t.test(`killing an approve at random points never leaves refs half-updated (${RUNS} runs)`, async (t) => {
  // How long an undisturbed approve takes, from start to exit (post-receive included).
  const durations: number[] = [];
  for (let i = 0; i < 2; i++) {
    const { id } = parkThree(1000 + i);
    const started = Date.now();
    const approved = await queueAsync(server, ['approve', id], ALICE).done;
    t.equal(approved.status, 0, approved.stderr);
    durations.push(Date.now() - started);
  }
  const full = Math.max(...durations);
  t.comment(`an undisturbed approve takes about ${full} ms`);

  const outcomes = { applied: 0, untouched: 0 };
  for (let run = 0; run < RUNS; run++) {
    const entry = parkThree(run);
    const approving = queueAsync(server, ['approve', entry.id], ALICE);
    const delay = Math.round(full * 0.3) + randomInt(random, Math.round(full * 0.7));
    await sleep(delay);
    try {
      process.kill(approving.pid, 'SIGKILL');
    } catch {
      // already done
    }
    await approving.done;
    await sleep(50);
    const now = entry.refs.map((ref) => refValue(remote, ref));
    const all = now.every((v, i) => v === entry.after[i]);
    const none = now.every((v, i) => v === entry.before[i]);
    t.ok(all || none, `run ${run} (killed after ${delay} ms): all three refs moved or none did: ${JSON.stringify(now)}`);
    const stored = await readRecord(remote, entry.id);
    if (all) {
      outcomes.applied++;
      // The record is kept beside the repository: a kill between the ref transaction and the
      // record's move leaves it approved, with a claim whose process is gone.
      t.ok(stored?.record.state === 'applied' || stored?.record.state === 'approved', `the refs moved: the record says applied, or approved and not yet recorded (${stored?.record.state})`);
      if (stored?.record.state !== 'applied') {
        const again = queue(server, ['approve', entry.id], ALICE);
        t.equal(again.status, 0, `running approve again records it: ${again.stderr}`);
        t.equal((await readRecord(remote, entry.id))?.record.state, 'applied');
      }
    } else {
      outcomes.untouched++;
      t.ok(stored?.record.state === 'pending' || stored?.record.state === 'approved', `untouched refs: the entry still waits (${stored?.record.state})`);
      const again = queue(server, ['approve', entry.id], ALICE);
      t.equal(again.status, 0, `a killed approve can simply be run again: ${again.stderr}`);
      t.same(entry.refs.map((ref) => refValue(remote, ref)), entry.after);
      t.equal((await readRecord(remote, entry.id))?.record.state, 'applied');
    }
    if (existsSync(entryRepo(remote, entry.id))) {
      // Killed after the record said applied and before the store went: `queue expire`
      // (run from cron) removes the stores of decided entries; nothing else is left.
      t.equal((await readRecord(remote, entry.id))?.record.state, 'applied', 'a store is left only by a kill after the record was final');
      const swept = queue(server, ['expire']);
      t.equal(swept.status, 0, swept.stderr);
    }
    t.notOk(existsSync(entryRepo(remote, entry.id)), 'the entry\'s store is gone once applied (and swept)');
  }
  t.comment(`outcomes: ${JSON.stringify(outcomes)}`);
  t.ok(outcomes.applied > 0 && outcomes.untouched > 0, 'the kills landed both before and after the ref transaction');
});
