import { readFileSync } from 'node:fs';
import t from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { AGENT, ALICE, BOB, installMarkerHook, queue, queueAsync, refValue, workflowCommit } from './helpers.js';

const server = testServer(t);
const remote = server.createRepo('team/race');
const marker = installMarkerHook(remote);
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

const ROUNDS = 5;

t.test(`two reviewers approving at the same moment apply the push exactly once (${ROUNDS} rounds)`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const tip = workflowCommit(work, `race-${round}`);
    const id = work.push(['origin', 'main'], AGENT).result?.queueId as string;
    t.ok(id, `round ${round}: parked`);
    const [a, b] = await Promise.all([queueAsync(server, ['approve', id, '--format', 'json'], ALICE).done, queueAsync(server, ['approve', id, '--format', 'json'], BOB).done]);
    const codes = [a.status, b.status].sort();
    t.same(codes, [0, 1], `round ${round}: one approval applies, the other is told it is decided`);
    const loser = a.status === 1 ? a : b;
    t.match(loser.json, { ok: false, code: 'queue.decided', message: /already applied/ });
    t.equal(refValue(remote, 'refs/heads/main'), tip);
    const record = queue(server, ['show', id, '--format', 'json']).json;
    t.equal(record.events.filter((e: { type: string }) => e.type === 'apply').length, 1, 'one apply in the record');
    t.equal(record.approvals.length, 1, 'the losing approval was not recorded');
    t.equal(readFileSync(marker, 'utf8').split('\n').filter((l) => l.startsWith(`queue=${id} `)).length, 1, 'post-receive ran once');
    work.git('fetch', '--quiet', 'origin');
  }
});

t.test('with two approvals required, two concurrent approvals both count and apply once', async (t) => {
  server.setConfig(['queue', 'approvals'], 2);
  const tip = workflowCommit(work, 'two');
  const id = work.push(['origin', 'main'], AGENT).result?.queueId as string;
  const [a, b] = await Promise.all([queueAsync(server, ['approve', id, '--format', 'json'], ALICE).done, queueAsync(server, ['approve', id, '--format', 'json'], BOB).done]);
  t.equal(a.status, 0, a.stderr);
  t.equal(b.status, 0, b.stderr);
  t.same([a.json.applied, b.json.applied].sort(), [false, true], 'the second to land applies');
  t.equal(refValue(remote, 'refs/heads/main'), tip);
  const record = queue(server, ['show', id, '--format', 'json']).json;
  t.same(record.approvals.map((x: { by: { principal: string } }) => x.by.principal).sort(), ['alice', 'bob']);
  t.equal(readFileSync(marker, 'utf8').split('\n').filter((l) => l.startsWith(`queue=${id} `)).length, 1);
  server.setConfig(['queue', 'approvals'], 1);
});
