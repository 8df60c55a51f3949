import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { deliver, notifyEvent, signBody, SIGNATURE_HEADER, type NotifyConfig, type NotifyEvent, type QueueRecord } from '../../src/queue/index.js';
import { wantsNotification } from '../../src/queue/notify.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { tempDir } from '../helpers/tools.js';
import { AGENT, ALICE, queue, workflowCommit } from './helpers.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** An HTTP endpoint whose answers the test scripts: a status per request, or `hold` to answer only when released. */
async function endpoint(t: { teardown(fn: () => void): void }, answers: (number | 'hold')[] = []): Promise<{ url: string; received: Received[]; next(): Promise<Received>; release(): void }> {
  const received: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  let consumed = 0;
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => {
      const r = { headers: req.headers, body };
      received.push(r);
      const waiter = waiting.shift();
      if (waiter !== undefined) {
        consumed++;
        waiter(r);
      }
      const answer = answers.shift() ?? 200;
      if (answer === 'hold') held.push(res);
      else res.writeHead(answer).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const res of held) res.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    next: () => (consumed < received.length ? Promise.resolve(received[consumed++]!) : new Promise((resolve) => waiting.push(resolve))),
    release: () => {
      for (const res of held.splice(0)) res.writeHead(200).end();
    },
  };
}

const record: QueueRecord = {
  version: 1, id: 'abcd2345', repository: 'team/app', state: 'pending', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z',
  updates: [{ ref: 'refs/heads/main', old: 'a'.repeat(40), new: 'b'.repeat(40), pending: 'refs/pushgate/pending/abcd2345/heads/main' }],
  pusher: { principal: 'agent:bot', roles: ['agent'] }, pushOptions: [], reviewRequested: false,
  findings: [{ ruleId: 'path.ci-workflow', title: 't', action: 'park', mode: 'enforce', fix: 'f' }],
  stats: { commits: 1, files: 1, insertions: 1, deletions: 0 }, commits: [], approvals: [],
  events: [{ type: 'park', at: '2026-01-01T00:00:00.000Z', by: { principal: 'agent:bot', roles: ['agent'] } }],
};
const event: NotifyEvent = notifyEvent('park', record);

function notifyConfig(partial: Partial<NotifyConfig>): NotifyConfig {
  return { events: ['park', 'approve', 'reject', 'expire', 'stale'], webhook: null, command: null, ...partial };
}

t.test('the event says what happened without carrying findings', async (t) => {
  t.match(event, { event: 'park', id: 'abcd2345', repository: 'team/app', state: 'pending', pusher: 'agent:bot', rules: ['path.ci-workflow'] });
  t.notOk('by' in event, 'the park is the pusher\'s own');
  const rejected = notifyEvent('reject', { ...record, state: 'rejected' }, { type: 'reject', at: 'x', by: { principal: 'alice', roles: [] }, detail: 'no' });
  t.match(rejected, { by: 'alice', detail: 'no', state: 'rejected' });
  t.ok(wantsNotification(notifyConfig({ command: { run: ['true'], timeout: 1000 } }), 'park'));
  t.notOk(wantsNotification(notifyConfig({ events: ['reject'], command: { run: ['true'], timeout: 1000 } }), 'park'));
  t.notOk(wantsNotification(notifyConfig({}), 'park'), 'nothing configured, nothing to do');
});

t.test('webhook: signed POST, retries with backoff on 5xx, gives up on 4xx', async (t) => {
  const dir = tempDir(t);
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 'hunter2\n');
  const hook = await endpoint(t, [503, 502, 200]);
  const result = await deliver(notifyConfig({ webhook: { url: hook.url, timeout: 2000, retries: 3, secretFile } }), event, { backoffMs: 1 });
  t.match(result, { webhook: { ok: true, attempts: 3, status: 200 } });
  const got = hook.received[2]!;
  t.equal(got.headers['content-type'], 'application/json');
  t.equal(got.headers['x-pushgate-event'], 'park');
  t.equal(got.headers[SIGNATURE_HEADER], signBody('hunter2', got.body), 'HMAC-SHA256 of the body with the secret file\'s key');
  t.same(JSON.parse(got.body), event);

  const refused = await endpoint(t, [400]);
  t.match(await deliver(notifyConfig({ webhook: { url: refused.url, timeout: 2000, retries: 3, secretFile: null } }), event, { backoffMs: 1 }), { webhook: { ok: false, attempts: 1, status: 400 } });
  const failing = await endpoint(t, [500, 500]);
  t.match(await deliver(notifyConfig({ webhook: { url: failing.url, timeout: 2000, retries: 1, secretFile: null } }), event, { backoffMs: 1 }), { webhook: { ok: false, attempts: 2, status: 500 } });
});

t.test('webhook: a timeout, a closed port and a missing secret are failures, not exceptions', async (t) => {
  const slow = await endpoint(t, ['hold', 'hold']);
  const timedOut = await deliver(notifyConfig({ webhook: { url: slow.url, timeout: 100, retries: 1, secretFile: null } }), event, { backoffMs: 1 });
  t.match(timedOut, { webhook: { ok: false, attempts: 2, error: /timeout|aborted/i } });
  t.match(await deliver(notifyConfig({ webhook: { url: 'http://127.0.0.1:1/x', timeout: 500, retries: 0, secretFile: null } }), event), { webhook: { ok: false, attempts: 1, error: String } });
  t.match(await deliver(notifyConfig({ webhook: { url: slow.url, timeout: 500, retries: 0, secretFile: '/nonexistent/secret' } }), event), { webhook: { ok: false, attempts: 0, error: /secret/ } });
});

t.test('command: the event on stdin; exit status, timeout and a missing program are reported', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'event.json');
  t.match(await deliver(notifyConfig({ command: { run: ['sh', '-c', `cat > '${out}'`], timeout: 5000 } }), event), { command: { ok: true, exitCode: 0 } });
  t.same(JSON.parse(readFileSync(out, 'utf8')), event);
  t.match(await deliver(notifyConfig({ command: { run: ['sh', '-c', 'exit 3'], timeout: 5000 } }), event), { command: { ok: false, exitCode: 3 } });
  t.match(await deliver(notifyConfig({ command: { run: ['sleep', '5'], timeout: 100 } }), event), { command: { ok: false, error: /killed by SIGKILL/ } });
  t.match(await deliver(notifyConfig({ command: { run: ['/nonexistent/notifier'], timeout: 1000 } }), event), { command: { ok: false, exitCode: null } });
  t.match(await deliver(notifyConfig({ command: { run: [], timeout: 1000 } }), event), { command: { ok: false, error: /empty/ } });
});

t.test('from the hook and the CLI: delivered by a detached process, never holding up the push', async (t) => {
  const server = testServer(t);
  const remote = server.createRepo('team/notified');
  const hook = await endpoint(t, ['hold', 200, 200]);
  const dir = tempDir(t);
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 's3cret');
  const commandOut = join(dir, 'events.jsonl');
  server.setConfig(['queue', 'notify', 'webhook'], { url: hook.url, timeout: '30s', retries: 0, secretFile });
  server.setConfig(['queue', 'notify', 'command'], { run: ['sh', '-c', `cat >> '${commandOut}'; echo >> '${commandOut}'`], timeout: '5s' });
  const work = WorkTree.clone(t, remote);
  work.commit('first', { 'README.md': 'hello\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  workflowCommit(work);
  const pushed = work.push(['origin', 'main'], AGENT);
  const id = pushed.result?.queueId as string;
  t.ok(id, 'parked');
  const parked = await hook.next();
  t.equal(hook.received.length, 1, 'the push returned while the webhook still holds the park notification');
  t.match(JSON.parse(parked.body), { event: 'park', id, repository: 'team/notified', state: 'pending' });
  t.equal(parked.headers[SIGNATURE_HEADER], signBody('s3cret', parked.body));
  hook.release();
  t.equal(queue(server, ['reject', id, '--reason', 'not this week'], ALICE).status, 0);
  const rejected = await hook.next();
  t.match(JSON.parse(rejected.body), { event: 'reject', id, by: 'alice', detail: 'not this week' });
  for (let i = 0; i < 100 && readFileSync(commandOut, { encoding: 'utf8', flag: 'a+' }).split('\n').filter(Boolean).length < 2; i++) await sleep(50);
  const lines = readFileSync(commandOut, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as NotifyEvent);
  t.same(lines.map((l) => l.event).sort(), ['park', 'reject'], 'the command got both events');
});
