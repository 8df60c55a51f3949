import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { readAllRecords } from '../../src/queue/index.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { randomInt, seededRandom } from '../helpers/prng.js';
import { pushgateBin } from '../helpers/tools.js';
import { AGENT, baseEnv, entryRepo, hasObject, queue, recordRepo, refsUnder, refValue, workflowCommit } from './helpers.js';

const RUNS = Number(process.env.PUSHGATE_CRASH_RUNS ?? 60);
const random = seededRandom(Number(process.env.PUSHGATE_CRASH_SEED ?? 20240611));

const server = testServer(t);
const remote = server.createRepo('team/crash');
// Refs stay loose so the test can watch them appear; gc's pack-refs is covered elsewhere.
spawnSync('git', ['--git-dir', remote, 'config', 'gc.auto', '0']);
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

// The real hook behind a wrapper that says which process to kill: `exec` keeps the pid.
const pidFile = join(remote, 'hook.pid');
writeFileSync(join(remote, 'hooks', 'pre-receive'), [
  '#!/bin/sh',
  `echo $$ > '${pidFile}'`,
  `exec '${process.execPath}' '${pushgateBin}' hook pre-receive --config '${server.configPath}'`,
  '',
].join('\n'));
chmodSync(join(remote, 'hooks', 'pre-receive'), 0o755);

interface Pushing {
  pid: number;
  exited: Promise<number>;
  startedAt: number;
  output(): string;
}

async function startPush(args: string[]): Promise<Pushing> {
  rmSync(pidFile, { force: true });
  const child = spawn('git', ['push', ...args], { cwd: work.path, env: baseEnv(AGENT), stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  for (;;) {
    if (existsSync(pidFile)) {
      const text = readFileSync(pidFile, 'utf8').trim();
      if (text !== '') return { pid: Number(text), exited, startedAt: Date.now(), output: () => output };
    }
    await sleep(1);
  }
}

/** A fresh parked-to-be push: a workflow change on main, sometimes with a second ref. */
function preparePush(run: number): string[] {
  work.git('checkout', '--quiet', '-B', 'main', 'origin/main');
  workflowCommit(work, `crash-${run}`);
  return run % 3 === 0 ? ['origin', 'main', `HEAD:refs/heads/crash/${run}`] : ['origin', 'main'];
}

/** Every entry is complete: its record reads, and each pending ref exists in its store with all its objects; none is in the repository. */
async function checkEntries(t: Test, known: ReadonlySet<string> = new Set()): Promise<Set<string>> {
  const { records, problems } = await readAllRecords(remote);
  t.same(problems, [], 'every record reads');
  for (const { record } of records) {
    if (known.has(record.id)) continue;
    const complete = record.state === 'pending' && record.updates.length > 0 && record.findings.length > 0 && record.events.length === 1
      && record.updates.every((u) => u.pending !== null && refValue(entryRepo(remote, record.id), u.pending) === u.new
        && spawnSync('git', ['--git-dir', entryRepo(remote, record.id), 'rev-list', '--objects', '--quiet', u.new], { stdio: 'ignore' }).status === 0
        && !hasObject(remote, u.new));
    if (!complete) t.fail(`entry ${record.id} is partial: ${JSON.stringify(record)}`);
  }
  return new Set(records.map((r) => r.record.id));
}

/** Entry stores (complete, renamed into place) and records (loose refs: the records' repository is never packed), to time the kills. */
function listing(kind: 'stores' | 'queue'): string[] {
  try {
    if (kind === 'stores') return readdirSync(join(remote, '.pushgate', 'parked')).filter((name) => name.endsWith('.git'));
    return readdirSync(join(recordRepo(remote), 'refs', 'pushgate', 'queue'));
  } catch {
    return [];
  }
}

const storeIds = (): Set<string> => new Set(listing('stores').map((name) => name.replace(/\.git$/, '')));

t.test(`killing the hook at random points while it parks never leaves a partial entry (${RUNS} runs)`, async (t) => {
  // An undisturbed park, watched: when its pending refs and its record appear, and when git exits.
  const calibration: { pack: number; record: number; full: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const packsBefore = listing('stores');
    const recordsBefore = listing('queue');
    const pushing = await startPush(preparePush(1000 + i));
    let pack = 0;
    let record = 0;
    let done = false;
    void pushing.exited.then(() => (done = true));
    while (!done) {
      const elapsed = Date.now() - pushing.startedAt;
      if (pack === 0 && listing('stores').length > packsBefore.length) pack = elapsed;
      if (record === 0 && listing('queue').length > recordsBefore.length) record = elapsed;
      await sleep(1);
    }
    t.match(pushing.output(), /pushgate-result: \{"decision":"park"/, 'calibration: parked');
    calibration.push({ pack, record, full: Date.now() - pushing.startedAt });
  }
  const full = Math.max(...calibration.map((c) => c.full));
  const gap = Math.max(...calibration.map((c) => c.record - c.pack));
  t.comment(`undisturbed parks (ms from hook start: entry store created, entry published, exit): ${JSON.stringify(calibration)}`);
  let entries = await checkEntries(t);
  t.equal(entries.size, 3);

  const outcomes = { none: 0, orphanStore: 0, entry: 0 };
  for (let run = 0; run < RUNS; run++) {
    const storesBefore = storeIds();
    const packsBefore = listing('stores').length;
    const pushing = await startPush(preparePush(run));
    // A third of the kills anywhere in the hook's life; a third once the entry's store exists
    // (while objects are copied and the record is written and published); a third just after publication.
    let done = false;
    void pushing.exited.then(() => (done = true));
    const mode = run % 3;
    if (mode !== 0) {
      const kind = mode === 1 ? 'stores' : 'queue';
      const before = kind === 'stores' ? packsBefore : entries.size;
      while (!done && listing(kind).length <= before) await sleep(1);
    }
    const delay = mode === 0 ? randomInt(random, Math.round(full * 1.1)) : randomInt(random, mode === 1 ? gap * 2 + 1 : 30);
    await sleep(delay);
    try {
      process.kill(pushing.pid, 'SIGKILL');
    } catch {
      // already done
    }
    const code = await pushing.exited;
    t.not(code, 0, `run ${run}: the push was refused (kill mode ${mode}, ${delay} ms)`);
    await sleep(30);
    const now = await checkEntries(t, entries);
    const added = [...now].filter((id) => !entries.has(id));
    const newStores = [...storeIds()].filter((id) => !storesBefore.has(id) && !now.has(id));
    t.ok(added.length <= 1, 'at most one entry per push');
    if (added.length === 1) outcomes.entry++;
    else if (newStores.length > 0) outcomes.orphanStore++;
    else outcomes.none++;
    entries = now;
  }
  t.comment(`outcomes: ${JSON.stringify(outcomes)}`);
  t.ok(outcomes.entry > 0 && (outcomes.none > 0 || outcomes.orphanStore > 0), 'the kills landed both before and after the entry was published');
  // A store without a record (a kill before publication) is never served: the gateway serves stores of open records only.

  t.same(await checkEntries(t), entries, 'a final look at every entry');
  // The same through the CLI: every listed entry is complete and its pending refs exist.
  const listed = queue(server, ['list', '--state', 'all', '--repo', 'team/crash', '--format', 'json']);
  t.equal(listed.status, 0, listed.stderr);
  t.same(new Set((listed.json as { id: string }[]).map((e) => e.id)), entries, 'queue list shows exactly the complete entries');
  const missing = (listed.json as { id: string; state: string; refs: string[] }[])
    .flatMap((e) => e.refs.map((ref) => [e.id, `refs/pushgate/pending/${e.id}/${ref.slice('refs/'.length)}`] as const))
    .filter(([entry, ref]) => !refsUnder(entryRepo(remote, entry), ref).includes(ref));
  t.same(missing, [], 'each listed entry has all its pending refs');
  t.same(refsUnder(remote, 'refs/pushgate/'), [], 'the repository holds nothing of the queue');
  t.equal(spawnSync('git', ['--git-dir', remote, 'fsck', '--connectivity-only', '--no-dangling'], { encoding: 'utf8' }).status, 0, 'git fsck: every ref\'s objects are present');

  // A store without a record (a park killed before it published) is deleted by `queue expire`
  // once it is older than the grace period; a young one may be a park publishing right now.
  const orphan = entryRepo(remote, 'zzzzzzzz');
  mkdirSync(join(orphan, 'objects'), { recursive: true });
  writeFileSync(join(orphan, 'HEAD'), 'ref: refs/heads/main\n');
  const young = queue(server, ['expire', '--format', 'json']);
  t.notOk(young.json.swept.some((s: { id: string }) => s.id === 'zzzzzzzz'), 'a young orphan is left alone');
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const id of [...storeIds()].filter((id) => !entries.has(id))) utimesSync(entryRepo(remote, id), old, old);
  const swept = queue(server, ['expire', '--format', 'json']);
  t.ok(swept.json.swept.some((s: { id: string }) => s.id === 'zzzzzzzz'), 'an old orphan is deleted');
  t.same([...storeIds()].filter((id) => !entries.has(id)), [], 'only stores of entries remain');
  t.same(new Set(queue(server, ['list', '--format', 'json']).json.map((e: { id: string }) => e.id)), entries, 'and every entry is still there');
});
