import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { AGENT, ALICE, BOB, entryRepo, gitIn, hasObject, installMarkerHook, queue, recordRepo, refsUnder, refValue, workflowCommit } from './helpers.js';

const server = testServer(t);
const remote = server.createRepo('team/app');
const marker = installMarkerHook(remote);
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');

function resync(): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('checkout', '--quiet', 'main');
  work.git('reset', '--quiet', '--hard', 'origin/main');
}

function park(t: Test, args: string[], env: NodeJS.ProcessEnv = AGENT): string {
  const pushed = work.push(args, env);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  t.not(pushed.code, 0, 'git reports the push as refused');
  const id = pushed.result?.queueId as string;
  t.match(id, /^[2-9a-hjkmnp-z]{8}$/, 'a short id without look-alike characters');
  return id;
}

t.test('park → list → show → approve: the branch moves and post-receive runs', async (t) => {
  const before = refValue(remote, 'refs/heads/main');
  const tip = workflowCommit(work);
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park');
  const id = pushed.result?.queueId as string;
  // The push carries an identity as the gateway passes it (PUSHGATE_PRINCIPAL): the hint is for the agent's clone.
  t.equal(pushed.result?.wait, `pushgate queue wait ${id} --remote origin`, 'the result line says how to wait from the agent\'s clone');
  t.match(pushed.output, new RegExp(`queue id: ${id}`));
  t.equal(refValue(remote, 'refs/heads/main'), before, 'main did not move');
  t.equal(refValue(entryRepo(remote, id), `refs/pushgate/pending/${id}/heads/main`), tip, 'the pending ref, in the entry\'s own store, holds the pushed commit');
  t.ok(refValue(recordRepo(remote), `refs/pushgate/queue/${id}`), 'the record ref exists beside the repository');
  t.same(refsUnder(remote, 'refs/pushgate/'), [], 'the repository itself holds nothing of the queue');
  t.equal(gitIn(entryRepo(remote, id), 'cat-file', '-t', tip), 'commit', 'the pushed objects left the quarantine for the entry\'s store');
  t.notOk(hasObject(remote, tip), 'and never entered the repository\'s object store');

  const listed = queue(server, ['list', '--format', 'json']);
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.json, [{ id, repository: 'team/app', state: 'pending', pusher: 'agent:bot', approvals: 0, required: 1, rules: ['path.ci-workflow'], refs: ['refs/heads/main'] }]);
  const text = queue(server, ['list']);
  t.match(text.stdout, new RegExp(`${id}\\s+pending\\s+team/app\\s+refs/heads/main\\s+agent:bot\\s+0/1`));
  t.equal(queue(server, ['list', '--principal', 'someone-else', '--format', 'json']).json.length, 0, 'the principal filter');
  t.equal(queue(server, ['list', '--repo', 'team/other', '--format', 'json']).json.length, 0, 'the repository filter');
  const stranger = { PUSHGATE_PRINCIPAL: 'mallory', PUSHGATE_ROLES: 'visitor' };
  t.same(queue(server, ['list', '--format', 'json'], stranger).json, [], 'over SSH, only repositories the caller may read');
  t.match(queue(server, ['show', id], stranger), { status: 1, stderr: /queue\.not-found/ });

  const shown = queue(server, ['show', id, '--format', 'json']);
  t.equal(shown.status, 0, shown.stderr);
  t.match(shown.json, {
    id, repository: 'team/app', state: 'pending', effectiveState: 'pending', reviewRequested: false,
    pusher: { principal: 'agent:bot', roles: ['agent'], keyId: 'bot-key', certSerial: '42', sessionId: 's-1' },
    updates: [{ ref: 'refs/heads/main', old: before, new: tip, pending: `refs/pushgate/pending/${id}/heads/main` }],
    stats: { commits: 1, files: 1, insertions: 2, deletions: 0 },
    commits: [{ oid: tip, subject: /ci workflow/ }],
    findings: [{ ruleId: 'path.ci-workflow', action: 'park', path: '.github/workflows/ci.yml' }],
    requirements: { approvals: 1, reviewerRoles: [['reviewer']] },
    fetch: { command: `git fetch "$(git remote get-url origin)/.queue/${id}" 'refs/pushgate/pending/${id}/*:refs/remotes/pushgate/${id}/*'`, refs: [{ ref: 'refs/heads/main', oid: tip }] },
  });
  t.equal(Date.parse(shown.json.expiresAt) - Date.parse(shown.json.createdAt), 7 * 86400_000, 'expires after the configured 7d');
  const showText = queue(server, ['show', id]).stdout;
  t.match(showText, /1 commit, 1 file changed, 2 insertions\(\+\), 0 deletions\(-\)/);
  t.match(showText, /\[park\] path\.ci-workflow/);
  t.match(showText, `/.queue/${id}" 'refs/pushgate/pending/${id}/*:refs/remotes/pushgate/${id}/*'`);
  t.match(showText, `git fetch '${entryRepo(remote, id)}'`, 'on the server\'s shell, the store\'s path too');
  t.match(queue(server, ['status', id]).stdout, new RegExp(`^${id} team/app: pending; 0/1 approvals`));

  const approved = queue(server, ['approve', id, '--comment', 'looks right'], ALICE);
  t.equal(approved.status, 0, approved.stderr);
  t.match(approved.stdout, new RegExp(`approved and applied ${id} \\(1/1\\): refs/heads/main -> ${tip.slice(0, 12)}; post-receive exited 0`));
  t.equal(refValue(remote, 'refs/heads/main'), tip, 'main now points at the pushed commit');
  t.notOk(existsSync(entryRepo(remote, id)), 'the entry\'s store is gone');
  t.ok(hasObject(remote, tip), 'the approved objects are in the repository now');
  const ran = readFileSync(marker, 'utf8');
  t.match(ran, `${before} ${tip} refs/heads/main\nqueue=${id} principal=agent:bot approved=alice gitdir=${remote}`, 'post-receive got git\'s input and the pusher\'s identity');

  const waited = queue(server, ['wait', id]);
  t.equal(waited.status, 0, 'wait: 0 for applied');
  t.match(waited.stdout, /applied/);
  const again = queue(server, ['approve', id], BOB);
  t.equal(again.status, 1);
  t.match(again.stderr, /already applied/);

  const record = queue(server, ['show', id, '--format', 'json']).json;
  t.same(record.events.map((e: { type: string }) => e.type), ['park', 'approve', 'apply', 'post-receive']);
  t.match(record, { state: 'applied', approvals: [{ by: { principal: 'alice' }, comment: 'looks right' }], postReceive: { state: 'ran', exitCode: 0 } });
  const history = gitIn(recordRepo(remote), 'log', '--format=%s', `refs/pushgate/queue/${id}`).split('\n');
  t.same(history.map((line) => line.split(' ')[0]), ['post-receive', 'apply', 'approve', 'park'], 'each transition is one commit on the record ref (approve claims, apply records)');
  t.match(history.at(-1), /^park /);

  const audit = readFileSync(join(server.dir, 'state', 'audit', 'audit.log'), 'utf8').split('\n').filter((l) => l.includes(id)).map((l) => JSON.parse(l) as { type: string; queueId?: string });
  t.same(audit.map((e) => e.type).filter((type) => type.startsWith('queue.')), ['queue.park', 'queue.approve', 'queue.apply'], 'every transition is audited');
  t.ok(audit.every((e) => e.queueId === id), 'all joined on the queue id');
  t.match(audit.find((e) => e.type === 'push.applied'), { identity: { principal: 'agent:bot' }, session: 's-1', refUpdates: [{ ref: 'refs/heads/main', old: before, new: tip }] }, 'post-receive recorded the applied push under the pusher\'s name');
  resync();
});

t.test('reject: the entry closes, its pending ref goes, the branch never moves', async (t) => {
  const before = refValue(remote, 'refs/heads/main');
  workflowCommit(work);
  const id = park(t, ['origin', 'main']);
  const noRole = queue(server, ['reject', id, '--reason', 'no'], AGENT);
  t.equal(noRole.status, 1);
  t.match(noRole.stderr, /queue\.not-reviewer: agent:bot may not reject/);
  const rejected = queue(server, ['reject', id, '--reason', 'the workflow exfiltrates secrets', '--format', 'json'], ALICE);
  t.equal(rejected.status, 0, rejected.stderr);
  t.match(rejected.json, { ok: true, id, state: 'rejected' });
  t.match(queue(server, ['status', id]).stdout, `${id} team/app: rejected by alice: the workflow exfiltrates secrets`);
  const waited = queue(server, ['wait', id, '--format', 'json']);
  t.equal(waited.status, 1, 'wait: 1 for rejected');
  t.match(waited.json, { state: 'rejected', detail: 'the workflow exfiltrates secrets' });
  t.notOk(existsSync(entryRepo(remote, id)), 'the parked objects are deleted with the rejection');
  t.equal(refValue(remote, 'refs/heads/main'), before);
  t.equal(queue(server, ['approve', id], BOB).status, 1, 'a rejected entry cannot be approved');
  t.equal(queue(server, ['reject', id, '--reason', 'again'], BOB).status, 1, 'nor rejected twice');
  t.match(queue(server, ['list', '--state', 'rejected', '--format', 'json']).json, [{ id }]);
  resync();
});

t.test('stale: a ref moved after the push, so nothing is applied', async (t) => {
  workflowCommit(work);
  const id = park(t, ['origin', 'main']);
  work.git('checkout', '--quiet', '-B', 'other', 'origin/main');
  const moved = work.commit('unrelated', { 'notes.txt': 'n\n' });
  t.equal(work.push(['origin', 'other:main']).code, 0, 'an allowed push moves main meanwhile');
  const approved = queue(server, ['approve', id], ALICE);
  t.equal(approved.status, 1);
  t.match(approved.stderr, /queue\.stale: .*refs\/heads\/main moved since the push; nothing was applied\. Fetch, rebase/);
  t.equal(refValue(remote, 'refs/heads/main'), moved, 'main stays where the other push put it');
  const waited = queue(server, ['wait', id]);
  t.equal(waited.status, 1, 'wait: 1 for stale');
  t.match(waited.stdout, /stale by alice: refs\/heads\/main moved since the push.*rebase/);
  t.notOk(existsSync(entryRepo(remote, id)), 'a stale entry\'s objects go too');
  work.git('checkout', '--quiet', 'main');
  resync();
});

t.test('four eyes: neither the pusher nor the sponsor of its certificate may approve', async (t) => {
  workflowCommit(work, 'local');
  const local = park(t, ['origin', 'main'], {});
  const own = queue(server, ['approve', local]);
  t.equal(own.status, 1);
  t.match(own.stderr, /queue\.four-eyes: local:\S+ may not approve queue entry \S+: local:\S+ pushed it/);
  const ownJson = queue(server, ['approve', local, '--format', 'json']);
  t.match(ownJson.json, { ok: false, code: 'queue.four-eyes' });
  t.equal(queue(server, ['reject', local, '--reason', 'withdrawn']).status, 0, 'a reviewer may withdraw their own push');
  resync();

  workflowCommit(work, 'sponsored');
  const sponsored = park(t, ['origin', 'main'], { ...AGENT, PUSHGATE_SPONSOR: 'carol' });
  const bySponsor = queue(server, ['approve', sponsored], { PUSHGATE_PRINCIPAL: 'carol', PUSHGATE_ROLES: 'reviewer' });
  t.equal(bySponsor.status, 1);
  t.match(bySponsor.stderr, /queue\.four-eyes: carol may not approve/);
  const byAgent = queue(server, ['approve', sponsored], { PUSHGATE_PRINCIPAL: 'agent:bot', PUSHGATE_ROLES: 'reviewer' });
  t.match(byAgent.stderr, /queue\.four-eyes/, 'an agent holding the reviewer role still cannot approve its own push');
  const byCarolsAgent = queue(server, ['approve', sponsored], { PUSHGATE_PRINCIPAL: 'agent:other', PUSHGATE_ROLES: 'reviewer', PUSHGATE_SPONSOR: 'carol' });
  t.match(byCarolsAgent.stderr, /queue\.four-eyes/, 'nor another agent the same human sponsors');
  t.equal(queue(server, ['status', sponsored, '--format', 'json']).json.approvals, 0, 'no approval was recorded');
  t.equal(queue(server, ['approve', sponsored], ALICE).status, 0, 'another reviewer can');
  resync();
});

t.test('a rule can require two approvals from different reviewers, or other roles', async (t) => {
  server.setConfig(['queue', 'rules'], [
    { repos: ['**'], refs: ['refs/heads/release/**'], approvals: 2 },
    { repos: ['team/*'], refs: ['refs/heads/ops/**'], approvals: 1, reviewerRoles: ['ops-lead'] },
  ]);
  work.git('checkout', '--quiet', '-B', 'release/1', 'origin/main');
  const tip = workflowCommit(work, 'release');
  const id = park(t, ['origin', 'release/1']);
  const first = queue(server, ['approve', id], ALICE);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, `approved ${id} (1/2): waiting for 1 more approval`);
  t.equal(refValue(remote, 'refs/heads/release/1'), null, 'not applied after one approval');
  t.match(queue(server, ['status', id]).stdout, /pending; 1\/2 approvals/);
  const twice = queue(server, ['approve', id], ALICE);
  t.equal(twice.status, 1);
  t.match(twice.stderr, /queue\.already-approved/);
  const second = queue(server, ['approve', id], BOB);
  t.equal(second.status, 0, second.stderr);
  t.match(second.stdout, `approved and applied ${id} (2/2)`);
  t.equal(refValue(remote, 'refs/heads/release/1'), tip);

  work.git('checkout', '--quiet', '-B', 'ops/x', 'origin/main');
  workflowCommit(work, 'ops');
  const ops = park(t, ['origin', 'ops/x']);
  const refused = queue(server, ['approve', ops], ALICE);
  t.equal(refused.status, 1);
  t.match(refused.stderr, `queue.not-found: no queue entry ${ops}`, 'a reviewer who may not review this ref does not see the entry at all');
  t.equal(queue(server, ['approve', ops], { PUSHGATE_PRINCIPAL: 'dave', PUSHGATE_ROLES: 'reviewer,ops-lead' }).status, 0);
  server.setConfig(['queue', 'rules'], []);
  work.git('checkout', '--quiet', 'main');
  resync();
});

t.test('expiry: an overdue entry cannot be approved, and queue expire closes it', async (t) => {
  server.setConfig(['queue', 'expiry'], '1s');
  workflowCommit(work, 'late-a');
  const a = park(t, ['origin', 'main']);
  resync();
  workflowCommit(work, 'late-b');
  const b = park(t, ['origin', 'main']);
  server.setConfig(['queue', 'expiry'], '7d');
  await sleep(1100);
  t.match(queue(server, ['status', a]).stdout, /expired at .*push again/);
  const approved = queue(server, ['approve', a], ALICE);
  t.equal(approved.status, 1);
  t.match(approved.stderr, /queue\.expired: queue entry \S+ expired at/);
  t.equal(queue(server, ['wait', b]).status, 1, 'wait: 1 for expired');
  t.ok(existsSync(entryRepo(remote, b)), 'b keeps its store until expire runs');
  const expired = queue(server, ['expire', '--format', 'json']);
  t.equal(expired.status, 0, expired.stderr);
  t.match(expired.json.expired, [{ id: b }], 'a was already marked when its approval was refused');
  t.notOk(existsSync(entryRepo(remote, b)), 'expire deletes the parked objects');
  t.notOk(existsSync(entryRepo(remote, a)));
  const listed = queue(server, ['list', '--state', 'expired', '--format', 'json']).json.map((e: { id: string }) => e.id);
  t.ok(listed.includes(a) && listed.includes(b));
  t.match(queue(server, ['expire']).stdout, 'nothing to expire');
  resync();
});

t.test('a multi-ref push is applied in one transaction, or not at all', async (t) => {
  const base = refValue(remote, 'refs/heads/main')!;
  const tip = workflowCommit(work, 'multi');
  work.git('branch', '-f', 'feature', 'HEAD');
  work.git('tag', '-a', '-m', 'release 2', 'v2');
  const tag = work.git('rev-parse', 'v2').trim();
  const id = park(t, ['origin', 'main', 'feature', 'v2']);
  t.same(refsUnder(entryRepo(remote, id), `refs/pushgate/pending/${id}/`).sort(), [`refs/pushgate/pending/${id}/heads/feature`, `refs/pushgate/pending/${id}/heads/main`, `refs/pushgate/pending/${id}/tags/v2`]);
  t.equal(gitIn(entryRepo(remote, id), 'cat-file', '-t', `refs/pushgate/pending/${id}/tags/v2`), 'tag', 'an annotated tag is kept as the tag object');
  t.equal(queue(server, ['approve', id], ALICE).status, 0);
  t.equal(refValue(remote, 'refs/heads/main'), tip);
  t.equal(refValue(remote, 'refs/heads/feature'), tip);
  t.equal(refValue(remote, 'refs/tags/v2'), tag);
  const lines = readFileSync(marker, 'utf8').split('\n');
  const at = lines.indexOf(`queue=${id} principal=agent:bot approved=alice gitdir=${remote}`);
  t.same(lines.slice(at - 3, at).sort(), [`${'0'.repeat(40)} ${tag} refs/tags/v2`, `${'0'.repeat(40)} ${tip} refs/heads/feature`, `${base} ${tip} refs/heads/main`].sort(), 'post-receive saw all three updates at once');
  resync();

  const next = workflowCommit(work, 'multi-2');
  work.git('branch', '-f', 'feature', 'HEAD');
  const second = park(t, ['origin', 'main', 'feature']);
  work.git('checkout', '--quiet', '-B', 'side', tip);
  const moved = work.commit('feature moves', { 'feature.txt': 'f\n' });
  t.equal(work.push(['origin', '--force', 'side:feature']).code, 0);
  const approved = queue(server, ['approve', second], ALICE);
  t.equal(approved.status, 1);
  t.match(approved.stderr, /refs\/heads\/feature moved since the push/);
  t.equal(refValue(remote, 'refs/heads/main'), tip, 'main did not move although its own compare-and-swap would have held');
  t.equal(refValue(remote, 'refs/heads/feature'), moved);
  t.not(refValue(remote, 'refs/heads/main'), next);
  work.git('checkout', '--quiet', 'main');
  resync();
});

t.test('a park that cannot be stored denies the push, and keeps nothing', async (t) => {
  const repo = server.createRepo('team/unstorable');
  const clone = WorkTree.clone(t, repo);
  clone.commit('first', { 'README.md': 'hello\n' });
  t.equal(clone.push(['origin', 'main']).code, 0);
  // A file where the queue's directory belongs makes every store impossible.
  writeFileSync(join(repo, '.pushgate'), 'not a directory\n');
  workflowCommit(clone, 'unstorable');
  const pushed = clone.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.match(pushed.result, { error: /needs review but could not be queued/, findings: [{ rule: 'path.ci-workflow', action: 'park' }, { rule: 'queue.unavailable', action: 'deny' }] });
  t.same(refsUnder(repo, 'refs/pushgate/'), [], 'no pending ref, no record');
  const tip = clone.git('rev-parse', 'HEAD').trim();
  t.notOk(hasObject(repo, tip), 'and nothing of the push in the repository');
});
