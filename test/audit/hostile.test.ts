/**
 * What a pusher writes outside files (push options, ref names, file names,
 * identity fields) is hostile: it is masked before the audit writer hashes
 * and stores it, and its control characters never reach a terminal through
 * `audit show`, `audit tail` or `audit report`, nor a webhook through a
 * notification. Real pushes into a hooked bare repository, real CLI runs.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { openAudit, type AuditRecord } from '../../src/audit/index.js';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { gh, Rng, slackBot } from '../scan/fixtures.js';
import { auditConfig } from './fixtures/helpers.js';
import { tempDir } from '../helpers/tools.js';

const rng = new Rng(0xa0d17);
const ESC = '\u001b';
const hiding = `${ESC}[8m`;
const clipboard = `${ESC}]52;c;cm0gLXJmIH4=\u0007`;
const csi8bit = '\u009b31m';
const bidi = '\u202e';
/** What no printed text may hold: C0 (except newline), DEL, C1, bidi overrides. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

t.test('every free-text field is masked before it is hashed; ids keep their form', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'audit.log');
  const secrets = Array.from({ length: 12 }, () => gh(rng));
  const slack = slackBot(rng);
  const oid = 'c'.repeat(40);
  const log = openAudit(auditConfig(file));
  await log.record({
    type: 'push.decision',
    session: `s-${secrets[0]}`,
    identity: { principal: `agent ${secrets[1]}`, roles: [`role-${secrets[2]}`], keyId: `key ${secrets[3]}`, certSerial: '7', keyFingerprint: `SHA256:${'A'.repeat(43)}`, clientAddress: '127.0.0.1', sponsor: `sponsor ${secrets[4]}` },
    repository: `team/${secrets[5]}`,
    refUpdates: [
      { ref: `refs/heads/${secrets[6]}`, old: '0'.repeat(40), new: oid },
      { ref: 'refs/heads/x', old: `not an oid ${secrets[7]}`, new: oid },
    ],
    decision: 'allow',
    rules: ['secret.github-token'],
    findings: [{ rule: 'secret.github-token', action: 'deny', mode: 'enforce', commit: oid, path: `config/${secrets[8]}.env`, line: 3, excerpt: `token = ${secrets[9]}`, fingerprint: '0123456789abcdef' }],
    queueId: `q ${secrets[10]}`,
    reason: `deploy now ${secrets[11]} and ${slack}`,
    result: 'ok',
  });
  await log.close();
  const text = readFileSync(file, 'utf8');
  for (const secret of [...secrets, slack]) t.notOk(text.includes(secret), 'no plaintext credential is stored');
  for (const secret of secrets) t.notOk(text.includes(secret.slice(4, 20)), 'nor a large part of one');
  const record = JSON.parse(text) as AuditRecord;
  t.equal(record.refUpdates![0]!.new, oid, 'object ids are kept as they are');
  t.equal(record.findings![0]!.commit, oid);
  t.equal(record.findings![0]!.fingerprint, '0123456789abcdef', 'fingerprints too');
  t.equal(record.identity!.keyFingerprint, `SHA256:${'A'.repeat(43)}`);
  t.match(record.reason, /^deploy now ghp_…/, 'the mask is the findings\' mask');
  t.match(record.refUpdates![1]!.old, /^not an oid ghp_/, 'a field meant for an id holding text is masked as text');
  t.notOk(record.refUpdates![1]!.old.includes(secrets[7]!));
  const verified = pushgateCli(['audit', 'verify', file]);
  t.equal(verified.status, 0, `the chain holds over the masked record: ${verified.stderr}`);
});

t.test('a push whose options, ref name and file names are hostile: stored masked, printed escaped', async (t) => {
  const server = testServer(t);
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  work.commit('base', { 'README.md': 'base\n' });
  t.equal(work.push(['origin', 'main']).code, 0);

  const inOption = gh(rng);
  const inRef = gh(rng);
  const inFile = gh(rng);
  const fileName = `docs/${hiding}real${clipboard}${csi8bit}.env`;
  work.commit('a change', { [fileName]: `TOKEN=${inFile}\n` });
  const reason = `ok ${hiding}hidden${ESC}[0m ${clipboard} ${bidi}txt.exe ${inOption}`;
  const branch = `refs/heads/fix-${bidi}gnp-${inRef}`;
  const pushed = work.push(['-o', `reason=${reason}`, 'origin', `HEAD:${branch}`]);
  t.ok(pushed.result !== undefined, pushed.output);

  const log = join(server.dir, 'state', 'audit', 'audit.log');
  const stored = readFileSync(log, 'utf8');
  for (const secret of [inOption, inRef, inFile]) t.notOk(stored.includes(secret), 'the credential is not in the audit log');
  t.ok(stored.split('\n').some((l) => l.includes('"push.decision"')), 'the decision was recorded');
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath]).status, 0, 'and the chain holds');

  const show = pushgateCli(['audit', 'show', '--config', server.configPath]);
  t.equal(show.status, 0, show.stderr);
  t.notMatch(show.stdout, RAW_CONTROL, 'audit show prints no control character');
  t.match(show.stdout, '\\e[8mhidden', 'the hiding sequence is shown, not obeyed');
  t.match(show.stdout, '\\e]52;c;', 'the clipboard write is shown, not obeyed');
  t.match(show.stdout, '\\u{202e}', 'the bidi override is shown');
  for (const secret of [inOption, inRef, inFile]) t.notOk(show.stdout.includes(secret));

  for (const args of [['audit', 'show', '--format', 'json'], ['audit', 'tail', '-n', '5', '--format', 'json'], ['audit', 'tail', '-n', '5']]) {
    const ran = pushgateCli([...args, '--config', server.configPath]);
    t.equal(ran.status, 0, ran.stderr);
    t.notMatch(ran.stdout, RAW_CONTROL, `${args.join(' ')} prints no control character`);
  }
  const json = pushgateCli(['audit', 'tail', '-n', '5', '--format', 'json', '--config', server.configPath]).stdout;
  const records = json.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  // The hook refuses the name (ref.name) and records it escaped: the record holds the visible escape, never the character.
  t.ok(records.some((r) => r.refUpdates?.some((u) => u.ref.includes('\\u{202e}') && !u.ref.includes(bidi))), 'the ref is recorded with its bidi override as a visible escape');
  const report = pushgateCli(['audit', 'report', '--config', server.configPath, '--format', 'json']);
  t.notMatch(report.stdout, RAW_CONTROL);
});

t.test('a notification carries the same text masked and escaped', async (t) => {
  const bodies: string[] = [];
  const peer = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s)).on('end', () => {
      bodies.push(body);
      res.writeHead(200).end();
    });
  });
  peer.listen(0, '127.0.0.1');
  await once(peer, 'listening');
  t.teardown(() => peer.close());
  const server = testServer(t);
  server.setConfig(['queue', 'notify', 'webhook'], { url: `http://127.0.0.1:${(peer.address() as AddressInfo).port}/hook`, timeout: '5s', retries: 0 });
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  work.commit('base', { 'README.md': 'base\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  const secret = gh(rng);
  work.commit('ci', { '.github/workflows/ci.yml': 'on: push\n' });
  // A bidi character in a ref name is refused outright (ref.name), so it rides in the reason here.
  const pushed = work.push(['-o', `reason=please ${hiding}approve${clipboard} ${bidi}x ${secret}`, 'origin', 'HEAD:refs/heads/ci-x'], { PUSHGATE_PRINCIPAL: 'agent:bot', PUSHGATE_ROLES: 'agent' });
  t.equal(pushed.result?.decision, 'park', pushed.output);
  const deadline = Date.now() + 60_000;
  while (bodies.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(bodies.length, 1, 'the webhook was called');
  const body = bodies[0]!;
  t.notOk(body.includes(secret), 'no credential in the notification');
  const event = JSON.parse(body) as { reason?: string; updates: { ref: string }[] };
  t.notMatch(body, RAW_CONTROL, 'the body as sent holds no control character');
  t.notMatch(event.reason ?? '', RAW_CONTROL, 'no control character in what a consumer shows');
  t.match(event.reason, 'please \\e[8mapprove\\e]52;c;');
  t.match(event.reason, /ghp_…/);
  t.match(event.reason, '\\u{202e}x', 'the bidi override is shown as an escape');
  t.equal(event.updates[0]!.ref, 'refs/heads/ci-x');
});
