/**
 * Park notifications for chat (Slack- and Teams-compatible) and for a signed
 * JSON receiver, posted by deliver() to a real local HTTP server: the summary
 * is masked, markup from a push is escaped, the link leads to the console.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { deliver, notifyEvent, SIGNATURE_HEADER, signBody, type QueueRecord } from '../../src/queue/index.js';
import { tempDir } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

t.test('chat and signed JSON webhooks receive the park event with the console link', async (t) => {
  const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = tempDir(t);
  const keyFile = join(dir, 'webhook.key');
  writeFileSync(keyFile, 'k3y\n');
  const secret = gh(new Rng(7));
  const record = {
    version: 1, id: 'abcd2345', repository: 'team/app', state: 'pending', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z',
    updates: [{ ref: 'refs/heads/x<!channel>', old: '0'.repeat(40), new: 'a'.repeat(40), pending: null }],
    pusher: { principal: 'agent-7', roles: ['agent'] }, pushOptions: [], reason: `please <@U123> ${secret}`, reviewRequested: true,
    findings: [{ ruleId: 'secret.github-token', title: 't', action: 'park', mode: 'enforce', fix: 'f' }],
    stats: { commits: 1, files: 1, insertions: 1, deletions: 0 }, commits: [], approvals: [],
    events: [{ type: 'park', at: '2026-01-01T00:00:00.000Z' }],
  } as unknown as QueueRecord;
  const result = await deliver({
    events: ['park'], command: null, consoleUrl: 'https://pushgate.example.com/console/',
    webhook: null,
    webhooks: [
      { url: `${url}/chat`, format: 'chat', timeout: 5000, retries: 0, secretFile: null },
      { url: `${url}/json`, format: 'json', timeout: 5000, retries: 0, secretFile: keyFile },
    ],
  }, notifyEvent('park', record));
  t.ok(result.webhook?.ok, 'delivered');
  t.equal(result.webhooks?.length, 2);
  const chat = received.find((r) => r.path === '/chat')!;
  const json = received.find((r) => r.path === '/json')!;
  const message = JSON.parse(chat.body) as { text: string; summary: string; potentialAction: { targets: { uri: string }[] }[] };
  const link = 'https://pushgate.example.com/console/entry/abcd2345?repo=team%2Fapp';
  t.match(message.text, `<${link}|review it in the console>`, 'Slack link to the entry');
  t.equal(message.potentialAction[0]!.targets[0]!.uri, link, 'Teams action to the entry');
  t.notOk(message.text.includes('<!channel>'), 'no Slack mention from a ref name');
  t.notOk(message.text.includes('<@U123>'), 'no Slack mention from a reason');
  t.match(message.text, '&lt;!channel&gt;');
  for (const r of received) t.notOk(r.body.includes(secret), 'the secret is masked');
  t.equal(json.headers[SIGNATURE_HEADER], signBody('k3y', json.body), 'the JSON body is signed');
  t.equal((JSON.parse(json.body) as { url: string }).url, link);
  t.equal(chat.headers[SIGNATURE_HEADER], undefined, 'an unsigned webhook carries no signature');
});
